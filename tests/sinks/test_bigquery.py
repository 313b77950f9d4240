"""The BigQuery sink against local-bigquery: rows land typed, duplicates and rejects are handled, outages surface."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.config import WriteMethod
from functions.outcome import BQ_REJECTED
from local.emulators import Stack
from sinks.bigquery import BigQuerySink, Written
from sinks.clients import make_bigquery_client
from sinks.errors import DestinationError, RetryableError
from tests.sinks.conftest import Destinations, error_outcome, http_outcome

pytestmark = pytest.mark.emulators

METHODS: list[WriteMethod] = ["storage_write", "insert_all"]


def query(sink: BigQuerySink, sql: str) -> list[dict[str, Any]]:
    client = make_bigquery_client(sink.settings)
    dataset = f"{sink.settings.project}.{sink.settings.bigquery_dataset}"
    return [dict(row) for row in client.query(sql.replace("{ds}", dataset)).result()]


@pytest.mark.parametrize("method", METHODS)
def test_typed_rows_land_and_query_back(dest: Destinations, method: WriteMethod) -> None:
    sink = dest.sink(method)
    sink.ensure()
    outcomes = [http_outcome(n) for n in range(3)] + [error_outcome("e1")]
    report = sink.write(outcomes)
    assert report == Written(rows=3, error_rows=1, rejected=0, api_calls=2)

    rows = query(sink, "SELECT * FROM `{ds}.http_requests` ORDER BY path")
    assert [r["path"] for r in rows] == ["/posts/0", "/posts/1", "/posts/2"]
    first = rows[0]
    assert first["timestamp"] == datetime(2024, 5, 1, 10, 15, 0, 123456, tzinfo=UTC)
    assert isinstance(first["status"], int) and first["status"] == 200
    assert first["response_size"] == 10591
    assert first["latency_seconds"] == pytest.approx(0.012345)
    assert first["cache_lookup"] is True and first["cache_hit"] is False
    assert first["resource_labels"] == {
        "project_id": "demo-blog",
        "forwarding_rule_name": "k8s2-fr-blog",
        "zone": "global",
    }
    assert first["labels"] == {"env": "prod"}
    assert first["referer"] is None

    errors = query(sink, "SELECT * FROM `{ds}.errors`")
    assert len(errors) == 1
    assert errors[0]["reason"] == "not_json"
    assert errors[0]["payload_bytes"] == b"\xffnot json"
    assert errors[0]["payload"] is None  # not UTF-8
    assert errors[0]["attributes"] == {"logging.googleapis.com/timestamp": "2024-05-01T10:15:00.123456789Z"}


def test_insert_all_does_not_duplicate_insert_ids(dest: Destinations) -> None:
    sink = dest.sink("insert_all")
    sink.ensure()
    batch = [http_outcome(n) for n in range(5)]
    sink.write(batch)
    sink.write(batch)  # a redelivery
    sink.write(batch[:2])
    assert query(sink, "SELECT COUNT(*) AS n FROM `{ds}.http_requests`") == [{"n": 5}]


def test_dedup_view_deduplicates_the_storage_write_path(dest: Destinations) -> None:
    sink = dest.sink("storage_write")
    sink.ensure()
    batch = [http_outcome(n) for n in range(4)]
    no_insert_id = [
        http_outcome(10, insert_id=None, message_id="m10"),
        http_outcome(11, insert_id=None, message_id="m11"),
    ]
    sink.write(batch + no_insert_id)
    sink.write(batch + no_insert_id[:1])  # a redelivery, partly
    assert query(sink, "SELECT COUNT(*) AS n FROM `{ds}.http_requests`") == [{"n": 11}]
    view = query(sink, "SELECT insert_id, message_id FROM `{ds}.http_requests_dedup` ORDER BY message_id")
    assert [(r["insert_id"], r["message_id"]) for r in view] == [
        *[(f"1q2w3e{n:06d}", f"{9000000000 + n}") for n in range(4)],
        (None, "m10"),
        (None, "m11"),
    ]


@pytest.mark.parametrize("method", METHODS)
def test_rejected_rows_become_error_rows_and_good_rows_land(dest: Destinations, method: WriteMethod) -> None:
    sink = dest.sink(method)
    sink.ensure()
    # With storage_write the first is rejected while encoding, the second by BigQuery's row errors.
    # (Invalid JSON text is not used: local-bigquery commits the rest of such a request, which
    # BigQuery does not, so the re-appended good rows would be counted twice.)
    bad_int = http_outcome(1, status="abc")  # a string in an INT64 column
    no_time = http_outcome(2, timestamp=None)  # the REQUIRED timestamp is missing
    good = [http_outcome(n) for n in (3, 4, 5)]
    report = sink.write([good[0], bad_int, good[1], no_time, good[2]])
    assert report.rows == 3 and report.rejected == 2 and report.error_rows == 2

    landed = query(sink, "SELECT path FROM `{ds}.http_requests` ORDER BY path")
    assert [r["path"] for r in landed] == ["/posts/3", "/posts/4", "/posts/5"]
    errors = query(sink, "SELECT * FROM `{ds}.errors` ORDER BY message_id")
    assert [e["message_id"] for e in errors] == [bad_int.message.message_id, no_time.message.message_id]
    for error, outcome in zip(errors, (bad_int, no_time), strict=True):
        assert error["reason"] == BQ_REJECTED
        assert error["stage"] == "write"
        assert error["payload_bytes"] == outcome.payload
        assert error["message"].startswith("BigQuery rejected the row")
    assert "abc" in errors[0]["message"]


@pytest.mark.parametrize("method", METHODS)
def test_missing_table_is_a_destination_error(dest: Destinations, method: WriteMethod) -> None:
    sink = dest.sink(method, budget=5)  # no ensure(): nothing exists
    started = time.monotonic()
    with pytest.raises(DestinationError, match="http_requests"):
        sink.write([http_outcome(1)])
    assert time.monotonic() - started < 3  # not retried: retrying cannot create the table
    assert issubclass(DestinationError, RetryableError)  # still not acked


@pytest.mark.parametrize("method", METHODS)
def test_stopped_bigquery_is_a_retryable_error_within_the_budget(
    stack: Stack, dest: Destinations, method: WriteMethod
) -> None:
    budget = 3.0
    sink = dest.sink(method, budget=budget)
    sink.ensure()
    assert sink.write([http_outcome(1)]).rows == 1
    stack.bigquery.stop()
    try:
        assert not stack.bigquery.running
        started = time.monotonic()
        with pytest.raises(RetryableError) as raised:
            sink.write([http_outcome(2)])
        elapsed = time.monotonic() - started
        assert not isinstance(raised.value, DestinationError)
        assert budget - 1 <= elapsed <= budget + 2, elapsed
    finally:
        stack.bigquery.restart()
    # The same sink (and its clients) recovers once the emulator is back, and the data survived the restart.
    assert sink.write([http_outcome(2)]).rows == 1
    assert query(sink, "SELECT COUNT(*) AS n FROM `{ds}.http_requests`") == [{"n": 2}]


def test_error_row_rejected_for_its_payload_lands_without_it(dest: Destinations) -> None:
    sink = dest.sink("storage_write")
    sink.ensure()
    outcome = error_outcome("e7")
    assert outcome.row is not None
    broken = replace(outcome, row={**outcome.row, "payload_bytes": "*** not base64 ***"})
    report = sink.write([broken])
    assert (report.error_rows, report.rejected) == (1, 1)
    (row,) = query(sink, "SELECT * FROM `{ds}.errors`")
    assert row["message_id"] == "e7" and row["payload_bytes"] is None and row["payload"] is None
    assert "payload dropped" in row["message"]


@pytest.mark.parametrize("method", METHODS)
def test_one_sink_serves_concurrent_writes(dest: Destinations, method: WriteMethod) -> None:
    sink = dest.sink(method)  # clients not created yet: the threads race to create them
    sink.ensure()
    batches = [[http_outcome(t * 100 + n) for n in range(50)] for t in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        reports = list(pool.map(sink.write, batches))
    assert sum(r.rows for r in reports) == 400
    assert query(sink, "SELECT COUNT(DISTINCT insert_id) AS n FROM `{ds}.http_requests`") == [{"n": 400}]


def test_insert_all_requests_stay_under_10_mb_as_sent(dest: Destinations) -> None:
    """The client library sends stdlib-JSON with every non-ASCII character escaped (6 bytes for
    3 UTF-8 bytes): error rows of Japanese text are twice their UTF-8 size on the wire. Requests
    are measured as the real client sends them to the emulator."""
    sink = dest.sink("insert_all")
    sink.ensure()
    sent: list[int] = []
    session = sink._bigquery()._http  # the sink's own client: its requests.Session records each body sent
    session.hooks["response"].append(lambda response, *_, **__: sent.append(len(response.request.body or b"")))
    text = "ログの日本語テキスト" * 34_900  # 349,000 characters, 1,047,000 bytes of UTF-8: under the 1 MiB payload cut
    outcomes = [error_outcome(f"jp{n}", text.encode()) for n in range(3)]
    report = sink.write(outcomes)
    assert sent and max(sent) <= 10_000_000, f"request bodies of {sent} bytes: BigQuery refuses over 10 MB"
    assert report == Written(error_rows=3, api_calls=2)
    stored = query(sink, "SELECT message_id, payload FROM `{ds}.errors` ORDER BY message_id")
    assert [(r["message_id"], r["payload"]) for r in stored] == [(f"jp{n}", text) for n in range(3)]
