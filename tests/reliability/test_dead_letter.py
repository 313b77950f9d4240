"""Poison messages reach the dead-letter topic after the maximum attempts, and nothing else does.

Bad *content* never poisons a handler here: it becomes an error row. What poisons a message
is a dependency that keeps failing for it. This drives that through `drain` on the real
emulators: the archive is down for MAX_DELIVERY_ATTEMPTS drains, each of which hands the
batch back; the emulator then moves exactly those messages to the dead-letter topic, and a
message published after the archive recovers is archived and acked, not dead-lettered.
(The Cloud SDK emulator dead-letters pulled messages but, in our runs, not pushed ones: see
local/reliability.py; so the push path's policy is checked by the Terraform tests only.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from local import entries as fx
from local.harness import entry, unique
from local.pipeline import DEAD_LETTER_SUBSCRIPTION, MAX_DELIVERY_ATTEMPTS, LocalPipeline

pytestmark = pytest.mark.emulators


@pytest.fixture(scope="module")
def pipeline() -> Iterator[LocalPipeline]:
    running = LocalPipeline()
    running.server_env = {"WRITE_BUDGET_SECONDS": "1"}  # each failing drain gives up fast
    with running:
        yield running


def _dead_letters(pipeline: LocalPipeline) -> dict[str, dict[str, str]]:
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(pipeline.settings.project, DEAD_LETTER_SUBSCRIPTION)
    found: dict[str, dict[str, str]] = {}
    while True:
        response = subscriber.pull(subscription=path, max_messages=100, timeout=10)
        if not response.received_messages:
            return found
        for received in response.received_messages:
            found[received.message.data.decode()] = dict(received.message.attributes)
        subscriber.acknowledge(subscription=path, ack_ids=[r.ack_id for r in response.received_messages])


def test_messages_whose_archive_keeps_failing_are_dead_lettered_and_nothing_else(pipeline: LocalPipeline) -> None:
    poisoned = [entry(fx.load_balancer(), unique("poison")) for _ in range(3)]
    pipeline.stack.gcs.stop()
    pipeline.publish(poisoned)
    pulls = 0
    deadline = time.monotonic() + 120
    # A pull may return part of the backlog, or nothing while the released messages wait out the
    # subscription's retry backoff (drain's pulls answer at once rather than wait): drain again.
    while pulls < 3 * MAX_DELIVERY_ATTEMPTS and time.monotonic() < deadline:
        summary = pipeline.drain()
        if summary["pulled"] == 0:
            time.sleep(0.5)
            continue
        assert summary["stopped"] == "failed", f"drain with the archive down: {summary}"
        assert (summary["acked"], summary["released"]) == (0, summary["pulled"]), summary
        pulls += summary["pulled"]
    time.sleep(6)  # past the longest retry backoff (5 s): a sixth delivery would show now
    assert pipeline.drain()["pulled"] == 0
    assert pulls == 3 * MAX_DELIVERY_ATTEMPTS, "each message is delivered exactly the maximum number of times"
    pipeline.stack.gcs.start()

    healthy = [entry(fx.cloud_run(), unique("healthy"))]
    pipeline.publish(healthy)
    summary = pipeline.drain()
    assert (summary["stopped"], summary["pulled"], summary["acked"]) == ("empty", 1, 1), summary

    dead = _dead_letters(pipeline)
    assert sorted(dead) == sorted(p.decode() for p in poisoned)
    assert {a["CloudPubSubDeadLetterSourceDeliveryCount"] for a in dead.values()} == {str(MAX_DELIVERY_ATTEMPTS)}
