"""The Storage Write API write method: AppendRows on each table's `_default` stream.

The default stream commits rows as they are appended (at-least-once, no offsets), which is what
a redelivered Pub/Sub batch needs; duplicates are removed by the `http_requests_dedup` view.
Rows are protocol buffers built from the one schema (sinks/proto_rows.py).

Each request is its own short AppendRows call: a batch is one request unless it exceeds the
request size limit, and no long-lived stream state is shared between the concurrent requests a
function instance serves. When a request has row errors BigQuery commits none of its rows, so
the rejected rows are set aside and the others appended again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from google.api_core import exceptions as api_exceptions
from google.cloud.bigquery_storage_v1 import BigQueryWriteClient, types

from functions.outcome import Row
from functions.schema import TABLES, Table
from sinks import retry
from sinks.errors import DestinationError
from sinks.proto_rows import ProtoRowEncoder, RowRejectedError
from sinks.writer import AppendResult, TableRef, batches

MAX_REQUEST_BYTES = 9 * 1024 * 1024  # AppendRows takes 10 MB per request; leave room for the descriptor
MAX_REQUEST_ROWS = 1_000_000  # no row-count limit of its own; bytes bind first


class StorageWriteWriter:
    def __init__(self, client: Callable[[], BigQueryWriteClient]) -> None:
        self._client = client
        self._encoders = {table.name: ProtoRowEncoder(table) for table in TABLES}

    def append(
        self, ref: TableRef, schema: Table, rows: Sequence[Row], row_ids: Sequence[str], budget: retry.Budget
    ) -> AppendResult:
        """Appends `rows`; `row_ids` are unused: the default stream has no de-duplication key."""
        encoder = self._encoders[schema.name]
        result = AppendResult()
        encoded: dict[int, bytes] = {}
        for index, row in enumerate(rows):
            try:
                data = encoder.encode(row)
            except RowRejectedError as error:
                result.rejected[index] = str(error)
                continue
            if len(data) > MAX_REQUEST_BYTES:
                result.rejected[index] = f"row of {len(data)} bytes exceeds the AppendRows request limit"
                continue
            encoded[index] = data
        indexes = list(encoded)
        stream = BigQueryWriteClient.write_stream_path(ref.project, ref.dataset, ref.table, "_default")
        for batch in batches([len(encoded[i]) for i in indexes], MAX_REQUEST_BYTES, MAX_REQUEST_ROWS):
            pending = [indexes[i] for i in batch]
            while pending:
                request = partial(self._append, stream, encoder, [encoded[i] for i in pending])
                response = retry.call(request, budget, f"AppendRows to {ref}")
                result.api_calls += 1
                bad = {
                    pending[e.index]: e.message or str(e.code)
                    for e in response.row_errors
                    if 0 <= e.index < len(pending)
                }
                if response.row_errors and not bad:
                    raise DestinationError(f"AppendRows to {ref}: row errors with unknown indexes: {response.error}")
                result.rejected.update(bad)
                pending = [i for i in pending if i not in bad] if bad else []
        return result

    def _append(
        self, stream: str, encoder: ProtoRowEncoder, rows: list[bytes], timeout: float
    ) -> types.AppendRowsResponse:
        request = types.AppendRowsRequest(
            write_stream=stream,
            proto_rows=types.AppendRowsRequest.ProtoData(
                writer_schema=types.ProtoSchema(proto_descriptor=encoder.descriptor),
                rows=types.ProtoRows(serialized_rows=rows),
            ),
        )
        responses = list(self._client().append_rows(iter([request]), retry=None, timeout=timeout))
        if not responses:
            raise api_exceptions.ServiceUnavailable("AppendRows ended without a response")  # type: ignore[no-untyped-call]
        response: types.AppendRowsResponse = responses[0]
        if response.row_errors:
            return response
        if response.error.code:
            raise api_exceptions.from_grpc_status(response.error.code, response.error.message)  # type: ignore[no-untyped-call]
        return response
