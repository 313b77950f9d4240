"""`forward` end to end: the Pub/Sub emulator's subscription -> functions-framework serving
`forward` (called over HTTP as Cloud Scheduler calls it) -> syslog over TLS -> rsyslog on
loopback, which writes every message it reads to a file. Each entry is found there by its insertId.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from functions import syslog
from local import entries as fx
from local import rfc5424
from local.emulators import ensure_installed
from local.harness import entry, unique, wait_for
from local.pipeline import FORWARD_DEAD_LETTER_SUBSCRIPTION, FORWARD_SUBSCRIPTION, MAX_DELIVERY_ATTEMPTS, LocalPipeline
from local.syslog_receiver import SyslogReceiver

pytestmark = pytest.mark.emulators

FAULT_BATCH_SIZE = 100  # small batches, so that stopping the receiver lands in the middle of a run


@pytest.fixture(scope="module")
def pipeline(request: pytest.FixtureRequest) -> Iterator[LocalPipeline]:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        ensure_installed()  # a first run installs for a minute or so: show its progress
    running = LocalPipeline(forward=True)
    running.server_env = {"FORWARD_BATCH_SIZE": str(FAULT_BATCH_SIZE)}
    with running:
        yield running


@pytest.fixture(scope="module")
def receiver(pipeline: LocalPipeline) -> SyslogReceiver:
    assert pipeline.receiver is not None
    return pipeline.receiver


def mixed_batch(tag: str) -> tuple[list[bytes], dict[str, dict[str, Any]], list[bytes]]:
    """(payloads, the LogEntries by insertId, the payloads that are no LogEntry)."""
    entries: dict[str, dict[str, Any]] = {}
    bases = [fx.load_balancer(), fx.cdn_hit(), fx.cloud_run(), fx.app_engine(), fx.gke_container(fx.NGINX_COMBINED),
             fx.nginx_json(), fx.iap_audit(), fx.gen1_function(), fx.stack_trace(), fx.cloud_run_app_log()]  # fmt: skip
    for n, base in enumerate(bases):
        entries[f"{tag}-{n}"] = base
    for severity in ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY", "DEFAULT"):
        entries[f"{tag}-{severity}"] = fx.variant(fx.gke_container(f"{severity} line"), severity=severity)
    entries[f"{tag}-huge"] = fx.gke_container("é" * 150_000)  # 300 kB: cut to Papertrail's 100,000 bytes
    entries[f"{tag}-unicode"] = fx.gke_container("naïve café ☕ 日本語 \U0001f600")
    payloads = [entry(base, insert_id) for insert_id, base in entries.items()]
    bad_utf8 = entry(fx.gke_container("PLACEHOLDER"), f"{tag}-bad-utf8").replace(b"PLACEHOLDER", b"caf\xe9 \xff")
    entries[f"{tag}-bad-utf8"] = {}
    junk = [b"GET / 200 not json", b"[1, 2, 3]", b'{"no": "LogEntry fields"}']
    return [*payloads, bad_utf8, *junk], entries, junk


def test_a_mixed_batch_arrives_once_each_and_what_is_no_logentry_is_dead_lettered(
    pipeline: LocalPipeline, receiver: SyslogReceiver
) -> None:
    tag = unique("fwd")
    payloads, entries, junk = mixed_batch(tag)
    message_ids = pipeline.publish_forward(payloads)
    assert len(message_ids) == len(payloads)
    summary = pipeline.forward()
    assert summary["failure"] is None, summary
    assert summary["sent"] == summary["acked"] == len(entries)

    received = receiver.wait_for(entries)
    for insert_id in entries:
        assert len(received[insert_id]) == 1, f"{insert_id}: {len(received[insert_id])} lines"
    parsed = {i: rfc5424.parse(received[i][0]) for i in entries}
    severities = {s: parsed[f"{tag}-{s}"].severity for s in ("DEBUG", "WARNING", "EMERGENCY", "DEFAULT")}
    assert severities == {"DEBUG": 7, "WARNING": 4, "EMERGENCY": 0, "DEFAULT": 5}
    huge = received[f"{tag}-huge"][0]
    assert len(huge) <= syslog.DEFAULT_MAX_BYTES and huge.endswith(b" more bytes]")
    assert parsed[f"{tag}-unicode"].msg == "naïve café ☕ 日本語 \U0001f600".encode()
    assert parsed[f"{tag}-bad-utf8"].msg == "caf\ufffd \ufffd".encode()
    # rsyslog writes the line feeds and tabs it read as #012 and #011 (its escaping on receipt)
    assert b"boom#012#011at com.example.Blog.render" in (parsed[f"{tag}-8"].msg or b"")

    # The junk is handed back on every delivery until Pub/Sub dead-letters it, within this
    # run or the next ones (the emulator redelivers after a backoff).
    skipped = Counter(summary["skipped_by_reason"])
    dead: list[Any] = []
    deadline = time.monotonic() + 120
    while len(dead) < len(junk):
        assert time.monotonic() < deadline, f"dead letters: {len(dead)} of {len(junk)}; skipped {skipped}"
        dead += _pull_dead_letters(pipeline)
        if len(dead) < len(junk):
            later = pipeline.forward()
            assert later["failure"] is None and later["sent"] == 0, later
            skipped.update(later["skipped_by_reason"])
    assert skipped == {"not_json": MAX_DELIVERY_ATTEMPTS, "not_logentry": 2 * MAX_DELIVERY_ATTEMPTS}
    assert sorted(m.data for m in dead) == sorted(junk)
    for message in dead:  # republished by Pub/Sub under a new message id, with where it came from
        source = message.attributes["CloudPubSubDeadLetterSourceSubscription"]
        assert source.endswith(FORWARD_SUBSCRIPTION), dict(message.attributes)


def test_receiver_stopped_mid_run_loses_nothing_and_duplicates_are_identical(
    pipeline: LocalPipeline, receiver: SyslogReceiver
) -> None:
    tag = unique("fault")
    ids = [f"{tag}-{n}" for n in range(3000)]
    pipeline.publish_forward(
        entry(fx.gke_container(f"request {n} handled"), insert_id, f"2026-11-20T09:{n // 60 % 60:02d}:{n % 60:02d}Z")
        for n, insert_id in enumerate(ids)
    )
    before = len(receiver.received())
    results: list[dict[str, Any]] = []
    run = threading.Thread(target=lambda: results.append(pipeline.forward()))
    run.start()
    wait_for(lambda: len(receiver.received()) - before, lambda n: n >= 3 * FAULT_BATCH_SIZE, "first batches")
    receiver.stop()
    run.join(120)
    (failed,) = results
    assert failed["stopped"] == "failed" and failed["acked"] < len(ids), failed
    assert failed["released"] >= FAULT_BATCH_SIZE

    receiver.start()  # same port, same file
    deadline = time.monotonic() + 120
    while not set(ids) <= receiver.by_insert_id().keys():
        assert time.monotonic() < deadline, "not every entry arrived after the restart"
        summary = pipeline.forward()
        assert summary["failure"] is None, summary

    received = receiver.by_insert_id()
    copies = Counter({i: len(received[i]) for i in ids})
    assert set(copies) == set(ids)  # nothing lost
    for insert_id in ids:
        assert len(set(received[insert_id])) == 1, f"{insert_id}: copies differ"  # a duplicate is the same line
    duplicated = sum(n - 1 for n in copies.values())
    print(f"\nreceiver stopped after {failed['acked']} acked; {failed['released']} handed back; "
          f"{duplicated} lines received twice, each identical")  # fmt: skip


def _pull_dead_letters(pipeline: LocalPipeline) -> list[Any]:
    """What the forward dead-letter subscription holds now (acked, so each is seen once)."""
    subscriber = pubsub_v1.SubscriberClient()
    path = subscriber.subscription_path(pipeline.settings.project, FORWARD_DEAD_LETTER_SUBSCRIPTION)
    response = subscriber.pull(subscription=path, max_messages=10, timeout=10)
    if response.received_messages:
        subscriber.acknowledge(subscription=path, ack_ids=[r.ack_id for r in response.received_messages])
    return [r.message for r in response.received_messages]
