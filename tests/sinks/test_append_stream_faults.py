"""A Storage Write connection that never answers, which no emulator can be made to do: local-bigquery
either answers or drops the connection. A fake gRPC call stands in for the stream here (the fake
is of the transport's raw AppendRows call, nothing else): it takes requests and never responds.
No write may wait on it past its timeout, and the stuck connection must be replaced.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
from google.api_core import exceptions as api_exceptions
from google.cloud.bigquery_storage_v1 import BigQueryWriteClient, types

from functions.config import Settings
from sinks import bigquery
from sinks.append_stream import Connections
from sinks.bigquery import BigQuerySink
from sinks.errors import DestinationError, RetryableError
from tests.sinks.conftest import http_outcome

STREAM = "projects/p/datasets/d/tables/t/streams/_default"
SCHEMA = types.ProtoSchema()


class SilentCall:
    """An AppendRows call that reads every request and never answers until it is cancelled."""

    def __init__(self, requests: Iterator[types.AppendRowsRequest]) -> None:
        self.received: list[types.AppendRowsRequest] = []
        self.cancelled = threading.Event()
        threading.Thread(target=self._consume, args=(requests,), daemon=True).start()

    def _consume(self, requests: Iterator[types.AppendRowsRequest]) -> None:
        for request in requests:
            self.received.append(request)

    def __iter__(self) -> Iterator[types.AppendRowsResponse]:
        self.cancelled.wait()
        return iter(())

    def cancel(self) -> bool:
        self.cancelled.set()
        return True


class SilentServer:
    """Stands in for the write client: each AppendRows call it starts is a SilentCall."""

    def __init__(self) -> None:
        self.calls: list[SilentCall] = []
        self.transport = SimpleNamespace(append_rows=self._start)

    def _start(self, requests: Iterator[types.AppendRowsRequest], metadata: Any = ()) -> SilentCall:
        call = SilentCall(requests)
        self.calls.append(call)
        return call

    def client(self) -> BigQueryWriteClient:
        return cast(BigQueryWriteClient, self)


def test_an_unanswered_request_times_out_and_the_connection_is_replaced() -> None:
    server = SilentServer()
    connections = Connections(server.client())
    failures: list[BaseException] = []

    def waiting_writer() -> None:  # a second write in flight on the same connection
        try:
            connections.append(STREAM, "row", SCHEMA, [b"b"], 30.0)
        except Exception as error:
            failures.append(error)

    started = time.monotonic()
    other = threading.Thread(target=waiting_writer)
    other.start()
    while not server.calls or len(server.calls[0].received) < 1:
        time.sleep(0.01)
    with pytest.raises(api_exceptions.DeadlineExceeded):
        connections.append(STREAM, "row", SCHEMA, [b"a"], 0.5)
    other.join(5)
    assert time.monotonic() - started < 3
    assert not other.is_alive() and len(failures) == 1, "a write waiting on the stuck connection is released"
    assert isinstance(failures[0], api_exceptions.DeadlineExceeded)
    assert server.calls[0].cancelled.is_set(), "the stuck call is cancelled"
    first, second = server.calls[0].received
    assert first.write_stream == STREAM and not second.write_stream, "only a connection's first request names it"

    with pytest.raises(api_exceptions.DeadlineExceeded):
        connections.append(STREAM, "row", SCHEMA, [b"c"], 0.2)
    assert len(server.calls) == 2 and connections.opened == 2
    assert server.calls[1].received[0].write_stream == STREAM, "a new connection starts with the stream name"


def test_a_store_on_a_silent_stream_fails_within_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the sink and sinks/retry.py: each attempt waits for what is left of the budget, so
    the store raises RetryableError (not acked, Pub/Sub redelivers) about when the budget ends."""
    server = SilentServer()
    monkeypatch.setattr(bigquery, "make_write_client", lambda settings: server.client())
    budget = 2.0
    sink = BigQuerySink(
        Settings.from_env({"GOOGLE_CLOUD_PROJECT": "p", "BIGQUERY_DATASET": "d", "WRITE_BUDGET_SECONDS": str(budget)})
    )
    started = time.monotonic()
    with pytest.raises(RetryableError) as raised:
        sink.write([http_outcome(1)])
    took = time.monotonic() - started
    assert not isinstance(raised.value, DestinationError)
    assert budget - 0.5 <= took <= budget + 1.5, took
    assert all(call.cancelled.is_set() for call in server.calls), "no stuck connection is left open"
