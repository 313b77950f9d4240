"""Dead-letter redrive on the Pub/Sub emulator: everything moves once, a dry run moves nothing,
and a failing publish acks nothing (the messages stay on the dead-letter subscription)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from local import entries as fx
from local.emulators import PROJECT, Stack
from sinks.pubsub import Puller
from sinks.redrive import redrive
from tests.sinks.conftest import unique

pytestmark = pytest.mark.emulators
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Topics:
    topic: str  # the topic the functions read
    inspect: str  # a pull subscription on it, standing in for the functions
    dead_letter_topic: str
    dead_letters: str  # the dead-letter subscription redrive reads


@pytest.fixture
def topics(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Topics]:
    for key, value in stack.env().items():
        monkeypatch.setenv(key, value)
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    name = unique("redrive")
    made = Topics(
        publisher.topic_path(PROJECT, name),
        subscriber.subscription_path(PROJECT, name + "-inspect"),
        publisher.topic_path(PROJECT, name + "-dl"),
        subscriber.subscription_path(PROJECT, name + "-dl"),
    )
    for topic in (made.topic, made.dead_letter_topic):
        publisher.create_topic(name=topic)
    subscriber.create_subscription(name=made.inspect, topic=made.topic, ack_deadline_seconds=30)
    subscriber.create_subscription(name=made.dead_letters, topic=made.dead_letter_topic, ack_deadline_seconds=30)
    yield made


def dead_letter(topics: Topics, count: int) -> dict[bytes, dict[str, str]]:
    """Messages as Pub/Sub dead-letters them: the original data and attributes plus its own."""
    publisher = pubsub_v1.PublisherClient()
    sent = {}
    for n in range(count):
        data = orjson.dumps(fx.variant(fx.load_balancer(), insertId=f"dl-{n}")) if n % 5 else b"\xff not json %d" % n
        attributes = {
            "logging.googleapis.com/timestamp": "2026-11-20T09:15:02.123456789Z",
            "CloudPubSubDeadLetterSourceSubscription": "logexport-ingest",
            "CloudPubSubDeadLetterSourceDeliveryCount": "5",
        }
        publisher.publish(topics.dead_letter_topic, data, **attributes).result(timeout=30)
        sent[data] = attributes
    return sent


def pull_all(subscription: str, expected: int | None = None) -> dict[bytes, dict[str, str]]:
    """Pulls and acks until `expected` messages arrived, or until a pull finds nothing (~7 s on the emulator)."""
    subscriber = pubsub_v1.SubscriberClient()
    found: dict[bytes, dict[str, str]] = {}
    while expected is None or len(found) < expected:
        response = subscriber.pull(subscription=subscription, max_messages=100, timeout=15)
        if not response.received_messages:
            break
        for received in response.received_messages:
            assert received.message.data not in found, "delivered twice"
            found[received.message.data] = dict(received.message.attributes)
        subscriber.acknowledge(subscription=subscription, ack_ids=[r.ack_id for r in response.received_messages])
    return found


def test_a_dry_run_moves_nothing_then_every_dead_letter_is_republished_once(topics: Topics) -> None:
    """One test for both (each run ends with the emulator's ~7 s empty pull): a message the dry
    run leaked would reach the topic twice, which pull_all refuses."""
    sent = dead_letter(topics, 25)
    dry = redrive(Puller(topics.dead_letters), pubsub_v1.PublisherClient(), topics.topic, dry_run=True, batch_size=10)
    assert (dry.pulled, dry.republished, dry.acked, dry.released) == (25, 0, 0, 25)
    assert dry.bytes == sum(len(d) for d in sent) and dry.by_source == {"logexport-ingest": 25}

    summary = redrive(Puller(topics.dead_letters), pubsub_v1.PublisherClient(), topics.topic, batch_size=10)
    assert (summary.pulled, summary.republished, summary.acked, summary.failure) == (25, 25, 25, None)
    assert pull_all(topics.inspect, 25) == sent, "data and attributes kept"


def test_a_failing_publish_acks_nothing(topics: Topics) -> None:
    sent = dead_letter(topics, 6)
    pubsub_v1.PublisherClient().delete_topic(topic=topics.topic)  # a real failure: the topic is gone
    summary = redrive(Puller(topics.dead_letters), pubsub_v1.PublisherClient(), topics.topic)
    assert summary.failure is not None and "not found" in summary.failure.lower(), summary.failure
    assert (summary.acked, summary.republished, summary.released) == (0, 0, 6)
    assert pull_all(topics.dead_letters, 6) == sent, "every message still on the dead-letter subscription"


def test_max_messages_moves_only_that_many_and_the_cli_says_so(topics: Topics) -> None:
    sent = dead_letter(topics, 8)
    done = subprocess.run(
        [sys.executable, "-m", "functions", "redrive", "--subscription", topics.dead_letters.rsplit("/", 1)[1],
         "--topic", topics.topic, "--max-messages", "3"],
        env=dict(os.environ), cwd=ROOT, capture_output=True, check=True,
    )  # fmt: skip
    summary = orjson.loads(done.stdout)
    assert (summary["pulled"], summary["republished"], summary["acked"]) == (3, 3, 3)
    moved = pull_all(topics.inspect, 3)
    assert len(moved) == 3
    assert pull_all(topics.dead_letters, 5) == {k: v for k, v in sent.items() if k not in moved}
