"""The Puller (sinks/pubsub.py) on the Pub/Sub emulator, and `drain` in process with the real
Puller and Store: an empty subscription answers at once, a pull that times out (Pub/Sub slowed
by the delaying proxy of local/faults.py) is a failure, and a poison message is archived and acked."""

from __future__ import annotations

import gzip
import time
import uuid
from collections.abc import Iterator

import pytest
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from local import entries as fx
from local.emulators import PROJECT, Stack
from local.faults import DelayProxy
from sinks import drain, pubsub
from sinks.clients import make_storage_client
from sinks.errors import RetryableError
from sinks.runtime import Runtime
from tests.sinks.conftest import Destinations

pytestmark = pytest.mark.emulators


@pytest.fixture
def subscription(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """(topic, subscription) of the test's own, on the session's Pub/Sub emulator."""
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", stack.pubsub.host)
    name = f"drain-{uuid.uuid4().hex[:10]}"  # a recreated name is flaky on the emulator: never reuse one
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic, path = publisher.topic_path(PROJECT, name), subscriber.subscription_path(PROJECT, name)
    publisher.create_topic(name=topic)
    subscriber.create_subscription(name=path, topic=topic, ack_deadline_seconds=20)
    yield topic, path


def publish(topic: str, payloads: list[bytes]) -> list[str]:
    publisher = pubsub_v1.PublisherClient()
    return [f.result(timeout=30) for f in [publisher.publish(topic, p) for p in payloads]]


def test_an_empty_subscription_answers_within_a_second(subscription: tuple[str, str]) -> None:
    puller = pubsub.Puller(subscription[1])
    puller.pull(10)  # the client's channel is set up
    started = time.monotonic()
    assert puller.pull(1000) == []
    assert time.monotonic() - started < 1.0


def test_a_pull_that_times_out_is_an_error_not_an_empty_subscription(
    stack: Stack, subscription: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(subscription[0], [fx.data(fx.load_balancer())])
    monkeypatch.setattr(pubsub, "PULL_TIMEOUT_SECONDS", 1.0)
    with DelayProxy(stack.pubsub.port) as proxy:
        monkeypatch.setenv("PUBSUB_EMULATOR_HOST", proxy.host)
        puller = pubsub.Puller(subscription[1])
        proxy.delay = 3.0
        started = time.monotonic()
        with pytest.raises(RetryableError):
            puller.pull(10)
        assert time.monotonic() - started < 3.0  # bounded by the pull timeout, retries included


def test_drain_archives_and_acks_a_batch_holding_a_poison_message(
    subscription: tuple[str, str], dest: Destinations
) -> None:
    topic, path = subscription
    make_storage_client(dest.settings()).create_bucket(dest.bucket)
    poison = fx.variant(fx.load_balancer(), httpRequest={"requestUrl": "/", "status": 200,
                                                         "latency": {"seconds": "9" * 400}})  # fmt: skip
    payloads = [fx.data(fx.variant(fx.cloud_run(), insertId=f"i-{n}")) for n in range(3)] + [fx.data(poison)]
    publish(topic, payloads)
    runtime = Runtime(dest.settings().__class__.from_env({**dest.env(), "DRAIN_SUBSCRIPTION": path}))
    started = time.monotonic()
    status, summary = drain.run("drain", runtime.drain_job)
    assert (status, summary["pulled"], summary["acked"], summary["stopped"]) == (200, 4, 4, "empty"), summary
    assert time.monotonic() - started < 10
    archived = b"".join(
        gzip.decompress(blob.download_as_bytes(raw_download=True))
        for blob in make_storage_client(dest.settings()).list_blobs(dest.bucket)
    )
    assert sorted(archived.splitlines()) == sorted(payloads)
    assert pubsub.Puller(path).pull(10) == []  # acked: nothing comes back
