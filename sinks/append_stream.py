"""Long-lived Storage Write AppendRows connections: one per (table stream, writer schema), shared
by every write of the sink that holds them.

Why: opening an AppendRows bidi stream costs about 2.2 ms of client CPU whatever it carries, so
a push that stores one message on a stream of its own pays mostly for the stream; and Google
advises using one connection for as many writes as possible rather than opening and closing a
stream per small write (cloud.google.com/bigquery/docs/write-api-best-practices).

How: a connection is one gRPC `AppendRows` call whose request iterator reads a queue. A write
appends its future to the pending list and queues its request under one lock, so futures and
requests keep the same order across threads; BigQuery answers a connection's requests in
order, so a reader thread resolves the oldest pending future with each response. Only a
connection's first request carries the stream name and writer schema, as the API allows.

The client library's `AppendRowsStream` is not used: its `send` queues the future and sends the
request outside any common lock (two threads can pair each other's responses), its first send
polls for readiness in 80 ms sleeps, and it takes no per-request timeout.

Failure: a connection whose call errors or ends, or whose request gets no answer within the
caller's timeout, is closed: every write waiting on it fails with a transient error (so
sinks/retry.py tries again within the write budget) and the next write opens a new connection.

Idle: a connection that sends nothing for IDLE_SECONDS half-closes (the server still answers
what it was sent, then ends the call), so a sink nobody writes to any more holds no server
resources: local-bigquery serves each open call on one of its 16 gRPC workers, and BigQuery
limits concurrent connections per project. Traffic of one message every few seconds keeps it
open; rarer writes pay for a new stream each, which is what they paid before.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Protocol, cast

import grpc
from google.api_core import exceptions as api_exceptions
from google.cloud import bigquery_storage_v1
from google.cloud.bigquery_storage_v1 import types

IDLE_SECONDS = 10.0

log = logging.getLogger(__name__)


class _AppendRowsCall(Protocol):
    """The raw gRPC stream-stream call: an iterator of responses that can be cancelled."""

    def __iter__(self) -> Iterator[types.AppendRowsResponse]: ...

    def cancel(self) -> bool: ...


class Connection:
    """One AppendRows call to one stream with one writer schema; closed for good once it fails."""

    def __init__(self, client: bigquery_storage_v1.BigQueryWriteClient, stream: str, schema: types.ProtoSchema) -> None:
        self.stream = stream
        self._schema = schema
        self._lock = threading.Lock()
        self._requests: queue.SimpleQueue[types.AppendRowsRequest | None] = queue.SimpleQueue()
        self._pending: deque[Future[types.AppendRowsResponse]] = deque()
        self._first = True
        self._accepting = True  # False once closed or half-closed: the pool then opens a new one
        self._closed = False
        # The transport's raw stub, not `client.append_rows`: the wrapped method waits for the
        # first response before returning the call, which could then never be cancelled.
        # The routing header is the one the client library's own writer sends.
        start = cast(Callable[..., _AppendRowsCall], client.transport.append_rows)
        self._call = start(self._request_iterator(), metadata=(("x-goog-request-params", f"write_stream={stream}"),))
        threading.Thread(target=self._read, name="append-rows-reader", daemon=True).start()

    @property
    def accepting(self) -> bool:
        return self._accepting

    def append(self, rows: list[bytes], timeout: float) -> types.AppendRowsResponse:
        """Sends one request and waits up to `timeout` s for its response; a request left
        unanswered closes the connection (it may be stuck), failing every write waiting on it."""
        future = self._send(rows)
        try:
            return future.result(timeout)
        except TimeoutError:
            error = api_exceptions.DeadlineExceeded(  # type: ignore[no-untyped-call]
                f"AppendRows: no response within {timeout:.1f} s; the connection is closed"
            )
            self.close(error)
            raise error from None

    def _send(self, rows: list[bytes]) -> Future[types.AppendRowsResponse]:
        future: Future[types.AppendRowsResponse] = Future()
        data = types.AppendRowsRequest.ProtoData(rows=types.ProtoRows(serialized_rows=rows))
        with self._lock:
            if not self._accepting:
                raise api_exceptions.ServiceUnavailable("AppendRows connection closed")  # type: ignore[no-untyped-call]
            if self._first:
                data.writer_schema = self._schema
                request = types.AppendRowsRequest(write_stream=self.stream, proto_rows=data)
                self._first = False
            else:
                request = types.AppendRowsRequest(proto_rows=data)
            self._pending.append(future)
            self._requests.put(request)
        return future

    def close(self, reason: Exception) -> None:
        """Cancels the call and fails every write still waiting with `reason`; idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._accepting = False
            pending = list(self._pending)
            self._pending.clear()
            self._requests.put(None)  # ends the request iterator, and with it gRPC's sending thread
        self._call.cancel()
        for future in pending:
            future.set_exception(reason)
        # An idle half-close ends the call too: only a close that failed writes is news.
        log.log(
            logging.INFO if pending else logging.DEBUG, "AppendRows connection to %s closed: %s", self.stream, reason
        )

    def _request_iterator(self) -> Iterator[types.AppendRowsRequest]:
        while True:
            try:
                request = self._requests.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._requests.empty():  # nothing was sent meanwhile: half-close
                        self._accepting = False
                        return
                continue
            if request is None:
                return
            yield request

    def _read(self) -> None:
        reason: Exception
        try:
            for response in self._call:
                with self._lock:
                    future = self._pending.popleft() if self._pending else None
                if future is None:
                    reason = api_exceptions.InternalServerError(  # type: ignore[no-untyped-call]
                        "AppendRows answered a request that was not sent"
                    )
                    break
                future.set_result(response)
            else:
                reason = api_exceptions.ServiceUnavailable("AppendRows stream ended by the server")  # type: ignore[no-untyped-call]
        except grpc.RpcError as error:
            reason = api_exceptions.from_grpc_error(error)  # type: ignore[no-untyped-call]
        except Exception as error:  # any reader failure must still release the waiters
            reason = api_exceptions.ServiceUnavailable(f"AppendRows reader failed: {error!r}")  # type: ignore[no-untyped-call]
        self.close(reason)


class Connections:
    """The open connection of each (stream, writer schema), opened on first use and replaced once closed."""

    def __init__(self, client: bigquery_storage_v1.BigQueryWriteClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._open: dict[tuple[str, str], Connection] = {}
        self.opened = 0  # connections opened so far: what reuse saves is visible in tests and logs

    def append(
        self, stream: str, schema_name: str, schema: types.ProtoSchema, rows: list[bytes], timeout: float
    ) -> types.AppendRowsResponse:
        """Appends `rows` to `stream` on its shared connection; `schema_name` identifies `schema`."""
        return self._connection(stream, schema_name, schema).append(rows, timeout)

    def _connection(self, stream: str, schema_name: str, schema: types.ProtoSchema) -> Connection:
        key = (stream, schema_name)
        with self._lock:
            connection = self._open.get(key)
            if connection is None or not connection.accepting:
                connection = self._open[key] = Connection(self._client, stream, schema)
                self.opened += 1
                log.debug("AppendRows connection %d opened to %s", self.opened, stream)
            return connection
