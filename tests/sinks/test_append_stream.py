"""The shared AppendRows connections (sinks/append_stream.py) against local-bigquery's Storage
Write API, through the real client: reuse, concurrency, per-request row errors, restarts.

Connections are counted on the wire: a gRPC interceptor on the sink's own channel records every
AppendRows call the client starts (tests below call it `opened`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from google.cloud.bigquery_storage_v1 import BigQueryWriteClient
from google.cloud.bigquery_storage_v1.services.big_query_write.transports import BigQueryWriteGrpcTransport

from functions.config import Settings
from functions.outcome import Outcome
from functions.schema import HTTP_REQUESTS
from local.emulators import Stack
from sinks import append_stream, bigquery
from sinks.append_stream import Connections
from sinks.bigquery import BigQuerySink, Written, encode_rows
from sinks.clients import make_bigquery_client, make_write_client
from sinks.errors import DestinationError, RetryableError
from tests.sinks.conftest import Destinations, http_outcome

pytestmark = pytest.mark.emulators

APPEND_ROWS = "/google.cloud.bigquery.storage.v1.BigQueryWrite/AppendRows"


class CallCounter(grpc.StreamStreamClientInterceptor):
    def __init__(self) -> None:
        self.append_rows = 0

    def intercept_stream_stream(self, continuation: Callable[..., Any], details: Any, requests: Any) -> Any:
        if details.method == APPEND_ROWS:
            self.append_rows += 1
        return continuation(details, requests)


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> CallCounter:
    """Counts the AppendRows calls of every write client the sink module builds in this test."""
    counter = CallCounter()

    def counting_client(settings: Settings) -> BigQueryWriteClient:
        transport = make_write_client(settings).transport
        assert isinstance(transport, BigQueryWriteGrpcTransport)
        channel = transport.grpc_channel
        counted = BigQueryWriteGrpcTransport(channel=grpc.intercept_channel(channel, counter))
        return BigQueryWriteClient(transport=counted)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(bigquery, "make_write_client", counting_client)
    return counter


def count(sink: BigQuerySink, table: str) -> int:
    client = make_bigquery_client(sink.settings)
    sql = f"SELECT COUNT(*) AS n FROM `{sink.settings.project}.{sink.settings.bigquery_dataset}.{table}`"
    return int(next(iter(client.query(sql).result()))["n"])


def test_sequential_stores_share_one_connection_per_table(dest: Destinations, opened: CallCounter) -> None:
    sink = dest.sink()
    sink.ensure()
    bad = [http_outcome(n, timestamp=None) for n in range(100, 105)]  # rejected: its error row goes to `errors`
    for n in range(40):
        report = sink.write([http_outcome(n)] if n % 8 else [http_outcome(n), bad[n // 8]])
        assert report.rows == 1 and report.rejected == (0 if n % 8 else 1), (n, report)
    # One connection to `http_requests` and one to `errors`, not one per call (50 before).
    assert opened.append_rows == 2
    assert (count(sink, "http_requests"), count(sink, "errors")) == (40, 5)


def test_concurrent_stores_land_with_their_own_results(dest: Destinations, opened: CallCounter) -> None:
    """8 threads, each store with its rejected rows at its own indexes, released together so that
    requests of several stores are in flight on the one connection at once."""
    sink = dest.sink()
    sink.ensure()
    start = threading.Barrier(8)

    def store(thread: int) -> list[tuple[Written, set[str]]]:
        results = []
        start.wait()
        for round_ in range(6):
            base = thread * 1000 + round_ * 100
            size = 3 + (thread + round_) % 5
            batch = [
                http_outcome(base + i, timestamp=None) if i == (thread + round_) % size else http_outcome(base + i)
                for i in range(size)
            ]
            bad = {str(o.message.message_id) for o in batch if o.row is not None and o.row["timestamp"] is None}
            results.append((sink.write(batch), bad))
        return results

    with ThreadPoolExecutor(max_workers=8) as pool:
        per_thread = list(pool.map(store, range(8)))
    expected_bad: set[str] = set()
    landed = 0
    for results in per_thread:
        for report, bad in results:
            assert report.rejected == len(bad) == report.error_rows == 1, report
            landed += report.rows
            expected_bad |= bad
    assert opened.append_rows == 2
    client = make_bigquery_client(sink.settings)
    dataset = f"{sink.settings.project}.{sink.settings.bigquery_dataset}"
    errors = {r["message_id"] for r in client.query(f"SELECT message_id FROM `{dataset}.errors`").result()}
    assert errors == expected_bad
    assert landed == sum(2 + (t + r) % 5 for t in range(8) for r in range(6))
    assert count(sink, "http_requests") == landed


def test_row_errors_come_back_for_their_own_request_and_index(dest: Destinations) -> None:
    """Requests from 8 threads in flight together on one connection: each response's row error
    names the index of the row that request made bad, so responses were not swapped."""
    sink = dest.sink()
    sink.ensure()
    settings = sink.settings
    connections = Connections(make_write_client(settings))
    stream = BigQueryWriteClient.write_stream_path(
        str(settings.project), settings.bigquery_dataset, "http_requests", "_default"
    )
    schema_name, schema = bigquery._SCHEMAS[HTTP_REQUESTS.name]
    start = threading.Barrier(8)

    def append(thread: int) -> list[tuple[int, list[int]]]:
        answers = []
        start.wait()
        for round_ in range(5):
            bad_index = (thread + round_) % 6
            rows = [
                (http_outcome(thread * 100 + i, timestamp=None) if i == bad_index else http_outcome(thread * 100 + i))
                for i in range(6)
            ]
            encoded, refused = encode_rows(HTTP_REQUESTS, [o.row or {} for o in rows])
            assert not refused
            response = connections.append(stream, schema_name, schema, list(encoded.values()), 10.0)
            answers.append((bad_index, [e.index for e in response.row_errors]))
        return answers

    with ThreadPoolExecutor(max_workers=8) as pool:
        for answers in pool.map(append, range(8)):
            for bad_index, indexes in answers:
                assert indexes == [bad_index]
    assert connections.opened == 1


def store_or_fail(sink: BigQuerySink, outcomes: list[Outcome]) -> tuple[str, float]:
    started = time.monotonic()
    try:
        sink.write(outcomes)
    except RetryableError as error:
        assert not isinstance(error, DestinationError), error
        return "failed", time.monotonic() - started
    return "stored", time.monotonic() - started


def test_bigquery_restarted_between_stores_the_connection_is_replaced(
    stack: Stack, dest: Destinations, opened: CallCounter
) -> None:
    budget = 4.0
    sink = dest.sink(budget=budget)
    sink.ensure()
    assert sink.write([http_outcome(1)]).rows == 1
    stack.bigquery.restart()  # the open connection's server goes away and comes back
    outcome, took = store_or_fail(sink, [http_outcome(2)])
    print(f"the store after the restart: {outcome} in {took:.2f} s")
    assert took <= budget + 2, (outcome, took)
    for n in range(3, 8):  # later stores succeed, on one new connection
        assert sink.write([http_outcome(n)]).rows == 1
    assert opened.append_rows >= 2
    reopened = opened.append_rows
    assert sink.write([http_outcome(8)]).rows == 1
    assert opened.append_rows == reopened
    assert count(sink, "http_requests") == (8 if outcome == "stored" else 7)


def test_bigquery_stopped_fails_within_the_budget_then_recovers(
    stack: Stack, dest: Destinations, opened: CallCounter
) -> None:
    budget = 3.0
    sink = dest.sink(budget=budget)
    sink.ensure()
    assert sink.write([http_outcome(1)]).rows == 1
    stack.bigquery.stop()
    try:
        outcome, took = store_or_fail(sink, [http_outcome(2)])
        assert outcome == "failed" and budget - 1 <= took <= budget + 2, (outcome, took)
    finally:
        stack.bigquery.start()
    for n in range(2, 6):
        assert sink.write([http_outcome(n)]).rows == 1
    assert count(sink, "http_requests") == 5


def test_an_idle_connection_half_closes_and_the_next_store_opens_another(
    dest: Destinations, opened: CallCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that sinks nobody writes to hold none of local-bigquery's 16 gRPC workers (nor a
    BigQuery connection) for ever; the server answers what was sent before it ends the call."""
    monkeypatch.setattr(append_stream, "IDLE_SECONDS", 0.5)
    sink = dest.sink()
    sink.ensure()
    assert sink.write([http_outcome(1)]).rows == 1
    assert sink.write([http_outcome(2)]).rows == 1
    assert opened.append_rows == 1
    time.sleep(1.5)
    assert sink.write([http_outcome(3)]).rows == 1
    assert opened.append_rows == 2
    assert count(sink, "http_requests") == 3
