"""End to end, through real HTTP: the Pub/Sub emulator pushes to functions-framework serving
`ingest` (which writes the BigQuery emulator), and `drain`, called over HTTP, pulls the same
messages and archives them to the Cloud Storage emulator.

The tests share one pipeline (started once per module); each uses its own insertIds, and the
tests that stop an emulator run last and always start it again.
"""

from __future__ import annotations

import json
import time
from collections import Counter

import orjson
import pytest

from local import entries as fx
from local.harness import E2E, PUSH_SUBSCRIPTION_PATH, Published, entry, push_body, unique, wait_for
from local.pipeline import LocalPipeline

pytestmark = pytest.mark.emulators

EXPECTED_BIGQUERY_DOWN_SECONDS = 25.0  # WRITE_BUDGET_SECONDS is 10 in LocalPipeline.env()


def mixed_sample(tag: str) -> tuple[list[bytes], list[str], list[str], dict[int, str]]:
    """A realistic batch: (payloads, indexes' kinds, insertIds, expected error reason per index)."""
    ids = [f"{unique(tag)}-{n}" for n in range(9)]
    payloads = [
        entry(fx.load_balancer(), ids[0]),
        entry(fx.cdn_hit(), ids[1], "2026-11-20T10:00:00Z"),
        entry(fx.cloud_run(), ids[2], "2026-11-21T23:59:59.999Z"),
        entry(fx.gke_container(fx.NGINX_COMBINED), ids[3]),
        entry(fx.app_engine(), ids[4]),
        entry(fx.gen1_function(), ids[5]),  # no httpRequest
        entry(fx.iap_audit(), ids[6]),  # an audit log nesting an httpRequest: not a served request
        entry(fx.gke_container(fx.NGINX_ERROR), ids[7]),  # an nginx error line, not an access line
        entry(fx.gke_container("Listening on :8080\n", container="app"), ids[8]),
        b"GET / HTTP/1.1 200 not json at all",
        b"[1, 2, 3]",
        b'"a JSON string"',
        b"\xff\xfe\x00\x81 not UTF-8 \xc3\x28",
        b'{"no": "LogEntry fields"}',
    ]
    kinds = ["http"] * 5 + ["other"] * 4 + ["error"] * 5
    reasons = {9: "not_json", 10: "not_logentry", 11: "not_logentry", 12: "not_utf8", 13: "not_logentry"}
    return payloads, kinds, ids, reasons


def test_every_published_message_is_one_row_or_one_error_row_or_neither(e2e: E2E) -> None:
    payloads, kinds, insert_ids, reasons = mixed_sample("count")
    message_ids = e2e.publish(payloads)
    by_kind: dict[str, list[str]] = {"http": [], "other": [], "error": []}
    for kind, message_id in zip(kinds, message_ids, strict=True):
        by_kind[kind].append(message_id)

    # Every message was handled, "other" ones included (they leave no row to poll for).
    logged = e2e.wait_ingested(message_ids)
    assert {m: [line.outcome for line in lines] for m, lines in logged.items()} == {
        m: [k] for m, k in zip(message_ids, kinds, strict=True)
    }, "ingest logged another outcome than expected, or one message twice"

    def counts() -> tuple[int, int]:
        return len(e2e.rows_by_message_id("http_requests", message_ids)), len(
            e2e.rows_by_message_id("errors", message_ids)
        )

    expected = (len(by_kind["http"]), len(by_kind["error"]))
    reached = wait_for(counts, lambda c: c[0] >= expected[0] and c[1] >= expected[1], "rows and error rows")
    assert reached == expected, f"(rows, error rows) {reached}, expected {expected}: a message stored twice?"
    time.sleep(1.0)  # settled: nothing more arrives (no duplicate, no late row)
    rows = e2e.rows_by_message_id("http_requests", message_ids)
    errors = e2e.rows_by_message_id("errors", message_ids)

    assert len(rows) + len(errors) == len(payloads) - len(by_kind["other"])
    assert sorted(r["message_id"] for r in rows) == sorted(by_kind["http"])
    assert {r["message_id"]: r["insert_id"] for r in rows} == {
        message_ids[i]: insert_ids[i] for i, k in enumerate(kinds) if k == "http"
    }
    assert sorted(r["message_id"] for r in errors) == sorted(by_kind["error"])
    assert {r["message_id"]: r["reason"] for r in errors} == {message_ids[i]: r for i, r in reasons.items()}
    assert not {r["message_id"] for r in rows + errors} & set(by_kind["other"])
    for row in errors:  # the raw payload is kept byte for byte
        index = message_ids.index(row["message_id"])
        assert row["payload_bytes"] == payloads[index], f"payload_bytes of message {row['message_id']}"
        assert row["stage"] in {"decode", "parse"}

    lb = next(r for r in rows if r["insert_id"] == insert_ids[0])
    assert (lb["method"], lb["status"], lb["host"], lb["path"], lb["response_size"], lb["source"]) == (
        "GET", 200, "blog.example.com", "/posts/hello-world", 26020, "httpRequest"
    )  # fmt: skip
    assert lb["remote_ip"] == "203.0.113.7" and lb["latency_seconds"] == pytest.approx(0.012345)
    nginx = next(r for r in rows if r["insert_id"] == insert_ids[3])
    assert nginx["resource_type"] == "k8s_container" and nginx["status"] is not None


def test_a_message_published_twice_is_once_in_the_dedup_view(e2e: E2E) -> None:
    insert_id = unique("dup")
    data = entry(fx.load_balancer(), insert_id)
    twice = e2e.publish([data, data])
    # Same insertId but another timestamp: another entry for Cloud Logging, so kept apart.
    other_time = e2e.publish([entry(fx.load_balancer(), insert_id, "2026-11-20T09:16:00Z")])
    e2e.wait_ingested(twice + other_time)  # ingest logs only once it has stored: no polling

    rows = e2e.rows_by_insert_id("http_requests", [insert_id])
    held = Counter(r["message_id"] for r in rows)
    assert set(held) <= {*twice, *other_time}, f"http_requests rows by message id: {held}"
    # Storage Write keeps both deliveries; insertAll may drop the second (same insertId).
    assert 1 <= sum(held[m] for m in twice) <= 2, f"http_requests rows by message id: {held}"
    assert held[other_time[0]] == 1, (
        "an entry with the same insertId but another timestamp is another LogEntry (Cloud Logging's identity is "
        f"insertId + timestamp) and must get its own row; http_requests rows by message id: {held}"
    )

    view = e2e.rows_by_insert_id("http_requests_dedup", [insert_id])
    seen = [(r["message_id"], r["timestamp"].isoformat()) for r in view]
    assert len(view) == 2, f"dedup view rows (message id, timestamp) for {insert_id}: {seen}"
    by_time = sorted(view, key=lambda r: r["timestamp"])
    assert by_time[0]["message_id"] in twice, "the duplicated entry appears once, as one of its deliveries"
    assert by_time[1]["message_id"] == other_time[0], "an entry with another timestamp is its own row"
    assert "_delivery" not in by_time[0], "the view exposes only the table's columns"


def test_a_push_body_without_data_gets_200_and_a_no_data_error_row(e2e: E2E) -> None:
    message_id = unique("nd")
    body = orjson.dumps(
        {
            "message": {"messageId": message_id, "attributes": {"a": "b"}},
            "subscription": "projects/test-project/subscriptions/x",
        }
    )
    status, answer, _ = e2e.post("ingest", body)
    assert status == 200, f"ingest answered {status} {answer[:300]!r}: Pub/Sub would redeliver it until dead-lettered"
    # `ingest` answers only once the error row is stored: no polling.
    rows = e2e.rows_by_message_id("errors", [message_id])
    assert len(rows) == 1, f"error rows for {message_id}: {rows}"
    row = rows[0]
    assert (row["reason"], row["stage"], row["subscription"]) == (
        "no_data", "decode", "projects/test-project/subscriptions/x"
    )  # fmt: skip
    attributes = row["attributes"] if isinstance(row["attributes"], dict) else json.loads(row["attributes"])
    assert attributes == {"a": "b"}
    assert row["payload"] is None and row["payload_bytes"] is None


def test_error_rows_from_the_emulators_push_carry_the_subscription(e2e: E2E) -> None:
    attributes = {"logging.googleapis.com/timestamp": "2026-11-20T09:15:02.123456789Z"}
    [message_id] = e2e.publish([b"{not json"], attributes)
    rows = wait_for(lambda: e2e.rows_by_message_id("errors", [message_id]), lambda r: len(r) == 1, "the error row")
    row = rows[0]
    # The emulator's push body holds `subscription` (it sends {"subscription", "message"}); the
    # CloudEvent that functions-framework makes of it does not, so main.py reads the raw body.
    assert row["subscription"] == PUSH_SUBSCRIPTION_PATH
    assert row["reason"] == "not_json" and row["payload"] == "{not json"
    assert row["publish_time"] is not None
    stored = row["attributes"] if isinstance(row["attributes"], dict) else json.loads(row["attributes"])
    assert stored == attributes


def test_the_archive_holds_every_message_and_drain_acks_what_it_pulled(e2e: E2E) -> None:
    payloads, kinds, insert_ids, reasons = mixed_sample("archive")
    message_ids = e2e.publish(payloads)
    mine = [Published(m, p) for m, p in zip(message_ids, payloads, strict=True)]

    status, summary, expected = e2e.drain()
    assert status == 200, f"drain failed: {summary}"
    assert summary["failure"] is None and summary["stopped"] == "empty", summary
    assert summary["pulled"] == len(expected), f"pulled {summary['pulled']}, published since last drain {len(expected)}"
    assert summary["acked"] == summary["pulled"] and summary["released"] == 0, summary
    assert sum(summary["by_outcome"].values()) == summary["pulled"]
    assert all(summary["by_outcome"][k] >= n for k, n in Counter(kinds).items()), summary["by_outcome"]
    assert summary["errors"] == summary["by_outcome"]["error"] >= len(reasons)
    assert summary["stored"] == summary["acked"] - summary["errors"]

    archive = e2e.archive()
    e2e.assert_archived(mine, archive)
    e2e.assert_archived(expected, archive)  # the other tests' messages too
    # Hive-style partitions by event time: {prefix}/{log_id as in logName}/dt=/hour=/
    objects = {line.record().get("insertId"): line.object_name for line in archive if not line.is_error_record}
    assert objects[insert_ids[0]].startswith("logs/requests/dt=2026-11-20/hour=09/")
    assert objects[insert_ids[1]].startswith("logs/requests/dt=2026-11-20/hour=10/")
    assert objects[insert_ids[2]].startswith("logs/run.googleapis.com%2Frequests/dt=2026-11-21/hour=23/")
    assert objects[insert_ids[5]].startswith("logs/cloudfunctions.googleapis.com%2Fcloud-functions/dt=2026-11-20/")
    errors = {r["message_id"]: r for r in (x.record() for x in archive if x.is_error_record)}
    assert {message_ids[i]: errors[message_ids[i]]["reason"] for i in reasons} == {
        message_ids[i]: r for i, r in reasons.items()
    }


def test_drain_acks_nothing_whose_write_failed(e2e: E2E, pipeline: LocalPipeline) -> None:
    tag = unique("gcsdown")
    payloads = [entry(fx.load_balancer(), f"{tag}-0"), entry(fx.gen1_function(), f"{tag}-1"), b"not json"]
    pipeline.stack.gcs.stop()
    try:
        message_ids = e2e.publish(payloads)
        status, summary, expected = e2e.drain()
        assert status == 500, f"drain answered {status} though the archive is down: {summary}"
        assert summary["stopped"] == "failed" and summary["failure"], summary
        assert summary["acked"] == 0, f"drain acked {summary['acked']} messages it could not archive"
        assert summary["pulled"] >= 1 and summary["released"] == summary["pulled"], summary
    finally:
        pipeline.stack.gcs.start()

    status, summary, expected = e2e.drain()
    assert status == 200 and summary["failure"] is None, summary
    assert summary["pulled"] == summary["acked"] == len(expected), (summary, len(expected))
    assert set(message_ids) <= {m.message_id for m in expected}
    e2e.assert_archived([Published(m, p) for m, p in zip(message_ids, payloads, strict=True)])


def test_ingest_answers_5xx_while_bigquery_is_down_and_stores_the_message_once_it_is_back(
    e2e: E2E, pipeline: LocalPipeline
) -> None:
    tag = unique("bqdown")
    direct = entry(fx.load_balancer(), f"{tag}-direct")
    body = push_body(direct, f"{tag}-direct-msg")
    pushed_insert_id = f"{tag}-pushed"

    pipeline.stack.bigquery.stop()
    try:
        [pushed_id] = e2e.publish([entry(fx.cloud_run(), pushed_insert_id)])  # delivered while BigQuery is down
        status, answer, seconds = e2e.post("ingest", body)
        assert status >= 500, f"ingest answered {status} {answer[:200]!r} with BigQuery down"
        assert seconds < EXPECTED_BIGQUERY_DOWN_SECONDS, f"the 5xx took {seconds:.1f} s: longer than the write budget"
        assert not [line for line in e2e.ingest_log() if line.message_id == pushed_id], "stored while BigQuery is down"
        restarted_at = e2e.ingest_log_size()
    finally:
        pipeline.stack.bigquery.start()

    # The pushed message's delivery failed and Pub/Sub redelivers it: it is stored now, once.
    lines = e2e.wait_ingested([pushed_id])[pushed_id]
    assert [line.outcome for line in lines] == ["http"], lines
    assert [line.message_id for line in e2e.ingest_log_after(restarted_at)].count(pushed_id) == 1
    rows = e2e.rows_by_insert_id("http_requests", [pushed_insert_id])
    assert [r["message_id"] for r in rows] == [pushed_id], f"rows of the message pushed during the outage: {rows}"

    # The direct request got a 5xx, so nothing was stored for it; its redelivery is stored.
    assert e2e.rows_by_insert_id("http_requests", [f"{tag}-direct"]) == []
    status, answer, _ = e2e.post("ingest", body)
    assert status == 200, f"ingest answered {status} {answer[:300]!r} after BigQuery came back"
    rows = e2e.rows_by_insert_id("http_requests", [f"{tag}-direct"])
    assert [r["message_id"] for r in rows] == [f"{tag}-direct-msg"], "stored before ingest answered 200"
