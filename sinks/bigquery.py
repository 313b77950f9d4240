"""BigQuery writes: a batch's `http_requests` rows and `errors` rows, by one of two methods.

Read top to bottom:
- `BigQuerySink.write(outcomes)` sends each table's rows with the configured method, then writes
  rows BigQuery rejected as `bq_rejected` error rows, so nothing is dropped and nothing is
  retried forever. An error row rejected for its payload is written again without it.
- `storage_write` (the default): AppendRows on the table's `_default` stream, rows encoded by
  sinks/proto_rows.py, over one long-lived connection per table that every write of the sink
  shares (sinks/append_stream.py): `ingest` and `drain` alike, so there is one way to append,
  and a warm `drain` instance keeps its connection from one scheduled run to the next (one the
  server closed in between is replaced, by the next run at the latest). The default stream
  commits as it appends (at-least-once, no offsets), which is what a redelivered Pub/Sub batch
  needs; the `http_requests_dedup` view removes duplicates. BigQuery commits none of a
  request's rows when one has an error, so the rejected rows are set aside and the others
  appended again.
- `insert_all`: legacy streaming inserts, each row keyed by an insertId that BigQuery uses to
  drop duplicates best-effort; `skipInvalidRows` lands the valid rows of a request in one call.

Both methods take one table's rows, split them into requests under the 10 MB request limit by
the bytes actually sent, and return the rows BigQuery rejected. Transient failures are retried
within one write budget (sinks/retry.py); past it, `RetryableError` tells the caller not to ack.
A sink is shared by the concurrent requests an instance serves: its clients and AppendRows
connections are created once, lazily, under a lock; a write keeps no other state outside its call.

In production Terraform owns the dataset, tables and view; `ensure()` creates them for local use
from functions/schema.py and functions/views.py, the same definitions Terraform reads. The view
`http_requests_dedup` keeps one row per Cloud Logging entry (log name, insertId, timestamp),
falling back to the message id when an entry has no insertId.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

from google.api_core import exceptions as api_exceptions
from google.cloud import bigquery, bigquery_storage_v1
from google.cloud.bigquery_storage_v1 import types

from functions import error_row
from functions.config import Settings
from functions.outcome import Outcome, Row
from functions.schema import ERRORS, HTTP_REQUESTS, TABLES, Table
from functions.views import HTTP_REQUESTS_DEDUP
from sinks import retry
from sinks.append_stream import Connections
from sinks.clients import make_bigquery_client, make_write_client
from sinks.errors import DestinationError
from sinks.proto_rows import ProtoRowEncoder, RowRejectedError

# Both APIs take at most 10 MB per request; what is left covers the request's own fields.
MAX_REQUEST_BYTES = 9 * 1024 * 1024
INSERT_ALL_MAX_ROWS = 50_000

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TableRef:
    project: str
    dataset: str
    table: str

    def __str__(self) -> str:
        return f"{self.project}.{self.dataset}.{self.table}"


@dataclass(frozen=True, slots=True)
class Written:
    """What one `write` did: rows landed per table, rows BigQuery rejected, API calls made."""

    rows: int = 0
    error_rows: int = 0
    rejected: int = 0
    api_calls: int = 0


class Appended(NamedTuple):
    """What one method did with one table's rows: rejected row index -> BigQuery's reason."""

    rejected: dict[int, str]
    api_calls: int


Method = Callable[[TableRef, Table, Sequence[Row], retry.Budget], Appended]


class BigQuerySink:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._bigquery_client: bigquery.Client | None = None
        self._connections: Connections | None = None

    def write(self, outcomes: Sequence[Outcome]) -> Written:
        """Writes the rows of a batch's `http` and `error` outcomes; `other` outcomes have none."""
        budget = retry.Budget(self.settings.write_budget_seconds)
        append = self._method()
        http = [o for o in outcomes if o.kind == "http"]
        errors = [_row(o) for o in outcomes if o.kind == "error"]
        landed = rejected = calls = 0
        if http:
            ref = self._ref(self.settings.bigquery_table)
            bad, calls = append(ref, HTTP_REQUESTS, [_row(o) for o in http], budget)
            landed, rejected = len(http) - len(bad), len(bad)
            errors += [error_row.rejected(http[i].message, http[i].payload, why) for i, why in sorted(bad.items())]
        landed_errors = 0
        if errors:
            landed_errors, rejected_errors, error_calls = self._write_errors(append, errors, budget)
            rejected += rejected_errors
            calls += error_calls
        return Written(landed, landed_errors, rejected, calls)

    def _write_errors(self, append: Method, rows: list[Row], budget: retry.Budget) -> tuple[int, int, int]:
        """Error rows landed, rejected and calls made; a rejected one is written again without its payload."""
        ref = self._ref(self.settings.bigquery_error_table)
        bad, calls = append(ref, ERRORS, rows, budget)
        if not bad:
            return len(rows), 0, calls
        stripped = [error_row.without_payload(rows[i], why) for i, why in sorted(bad.items())]
        still_bad, retry_calls = append(ref, ERRORS, stripped, budget)
        for i, why in still_bad.items():
            log.error("BigQuery rejected an error row even without its payload: %s: %s", why, stripped[i])
        return len(rows) - len(still_bad), len(bad), calls + retry_calls

    def ensure(self) -> None:
        """Creates the dataset, both tables and the dedup view when missing (local use only)."""
        client = self._bigquery()
        requests_ref = self._ref(self.settings.bigquery_table)
        errors_ref = self._ref(self.settings.bigquery_error_table)
        client.create_dataset(bigquery.Dataset(f"{requests_ref.project}.{requests_ref.dataset}"), exists_ok=True)
        client.create_table(_table(requests_ref, HTTP_REQUESTS, "timestamp", ["host", "status"]), exists_ok=True)
        client.create_table(_table(errors_ref, ERRORS, "error_timestamp", None), exists_ok=True)
        view = bigquery.Table(str(self._ref(self.settings.bigquery_dedup_view)))
        view.view_query = HTTP_REQUESTS_DEDUP.render(requests_table=str(requests_ref))
        client.create_table(view, exists_ok=True)

    def _method(self) -> Method:
        if self.settings.bigquery_write_method == "insert_all":
            return partial(insert_all, self._bigquery())
        return partial(storage_write, self._storage_write())

    def _bigquery(self) -> bigquery.Client:
        with self._lock:
            if self._bigquery_client is None:
                self._bigquery_client = make_bigquery_client(self.settings)
            return self._bigquery_client

    def _storage_write(self) -> Connections:
        with self._lock:
            if self._connections is None:
                self._connections = Connections(make_write_client(self.settings))
            return self._connections

    def _ref(self, table: str) -> TableRef:
        project = self.settings.project or self._bigquery().project
        return TableRef(project, self.settings.bigquery_dataset, table)


def _row(outcome: Outcome) -> Row:
    if outcome.row is None:  # functions/pipeline.py gives every http and error outcome its row
        raise ValueError(f"{outcome.kind} outcome of message {outcome.message.message_id} has no row")
    return outcome.row


# -- Storage Write API ---------------------------------------------------------------------------

_ENCODERS = {table.name: ProtoRowEncoder(table) for table in TABLES}
# Each table's writer schema, named for the connection it keys (one per table and schema).
_SCHEMAS = {
    name: (encoder.descriptor.name, types.ProtoSchema(proto_descriptor=encoder.descriptor))
    for name, encoder in _ENCODERS.items()
}
_PROTO_ROW_OVERHEAD = 6  # each serialized row's key and length inside ProtoRows


def storage_write(
    connections: Connections,
    ref: TableRef,
    table: Table,
    rows: Sequence[Row],
    budget: retry.Budget,
) -> Appended:
    """Appends `rows` to the table's default stream; every row lands or is rejected, else it raises."""
    schema_name, schema = _SCHEMAS[table.name]
    encoded, rejected = encode_rows(table, rows)
    stream = bigquery_storage_v1.BigQueryWriteClient.write_stream_path(ref.project, ref.dataset, ref.table, "_default")
    calls = 0
    for request in split_requests(list(encoded), [len(d) + _PROTO_ROW_OVERHEAD for d in encoded.values()], None):
        pending = request
        while pending:
            send = partial(_append_rows, connections, stream, schema_name, schema, [encoded[i] for i in pending])
            response = retry.call(send, budget, f"AppendRows to {ref}")
            calls += 1
            bad = {
                pending[e.index]: e.message or str(e.code) for e in response.row_errors if 0 <= e.index < len(pending)
            }
            if response.row_errors and not bad:
                raise DestinationError(f"AppendRows to {ref}: row errors with unknown indexes: {response.error}")
            rejected.update(bad)
            pending = [i for i in pending if i not in bad] if bad else []
    return Appended(rejected, calls)


def encode_rows(table: Table, rows: Sequence[Row]) -> tuple[dict[int, bytes], dict[int, str]]:
    """Each row's protocol buffer bytes by index, and the rows that cannot be sent with why."""
    encode = _ENCODERS[table.name].encode
    encoded: dict[int, bytes] = {}
    rejected: dict[int, str] = {}
    for index, row in enumerate(rows):
        try:
            data = encode(row)
        except RowRejectedError as error:
            rejected[index] = str(error)
            continue
        if len(data) + _PROTO_ROW_OVERHEAD > MAX_REQUEST_BYTES:
            rejected[index] = f"row of {len(data)} bytes exceeds the AppendRows request limit"
        else:
            encoded[index] = data
    return encoded, rejected


def _append_rows(
    connections: Connections,
    stream: str,
    schema_name: str,
    schema: types.ProtoSchema,
    rows: list[bytes],
    timeout: float,
) -> types.AppendRowsResponse:
    """One AppendRows request on the stream's shared connection; an error of the whole request raises."""
    response = connections.append(stream, schema_name, schema, rows, timeout)
    if response.error.code and not response.row_errors:
        raise api_exceptions.from_grpc_status(response.error.code, response.error.message)  # type: ignore[no-untyped-call]
    return response


# -- insertAll -----------------------------------------------------------------------------------


def insert_all(
    client: bigquery.Client, ref: TableRef, table: Table, rows: Sequence[Row], budget: retry.Budget
) -> Appended:
    """Streams `rows` with insertIds; every row lands or is rejected, else it raises."""
    row_ids = [_ROW_IDS[table.name](row) for row in rows]
    sizes = [insert_all_bytes(row, row_id) for row, row_id in zip(rows, row_ids, strict=True)]
    rejected = {i: f"row of {size} bytes exceeds the insertAll request limit" for i, size in enumerate(sizes)
                if size > MAX_REQUEST_BYTES}  # fmt: skip
    sendable = [i for i in range(len(rows)) if i not in rejected]
    calls = 0
    for request in split_requests(sendable, [sizes[i] for i in sendable], INSERT_ALL_MAX_ROWS):
        send = partial(_insert_rows, client, ref, [rows[i] for i in request], [row_ids[i] for i in request])
        errors = retry.call(send, budget, f"insertAll into {ref}")
        calls += 1
        for error in errors:
            reasons = [e.get("message") or e.get("reason", "") for e in error.get("errors", [])]
            rejected[request[int(error["index"])]] = "; ".join(r for r in reasons if r) or "rejected"
    return Appended(rejected, calls)


def insert_all_bytes(row: Row, row_id: str) -> int:
    """A row's share of the insertAll request body, as the client library sends it: stdlib
    `json.dumps` with its defaults, so every non-ASCII character is a 6- or 12-byte escape."""
    return len(json.dumps({"json": row, "insertId": row_id})) + len(", ")


def _insert_rows(
    client: bigquery.Client, ref: TableRef, rows: list[Row], row_ids: list[str], timeout: float
) -> Sequence[dict[str, Any]]:
    # retry=None switches the client's own retry off: sinks.retry owns the budget.
    return client.insert_rows_json(
        str(ref),
        rows,
        row_ids=row_ids,
        skip_invalid_rows=True,
        retry=None,  # type: ignore[arg-type]
        timeout=timeout,
    )


def request_row_id(row: Row) -> str:
    """The LogEntry's identity as the dedup view reads it (log name, insertId, timestamp: two
    logs may share an insertId), hashed to a fixed 32 characters whatever the log name's length;
    else the Pub/Sub message id."""
    insert_id = row.get("insert_id")
    if insert_id:
        identity = f"{row.get('log_name')}\n{insert_id}\n{row.get('timestamp')}"
        return hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()
    key = row.get("message_id")
    return str(key) if key else uuid.uuid4().hex


def _error_row_id(row: Row) -> str:
    message_id = row.get("message_id")
    return f"{message_id}:{row.get('reason')}:{row.get('stage')}" if message_id else uuid.uuid4().hex


_ROW_IDS: dict[str, Callable[[Row], str]] = {HTTP_REQUESTS.name: request_row_id, ERRORS.name: _error_row_id}


# -- shared --------------------------------------------------------------------------------------


def split_requests(indexes: list[int], sizes: list[int], max_rows: int | None) -> list[list[int]]:
    """Splits row indexes, in order, into requests of at most MAX_REQUEST_BYTES (and `max_rows`)."""
    result: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0
    for index, size in zip(indexes, sizes, strict=True):
        if current and (current_bytes + size > MAX_REQUEST_BYTES or len(current) == max_rows):
            result.append(current)
            current, current_bytes = [], 0
        current.append(index)
        current_bytes += size
    if current:
        result.append(current)
    return result


def _table(ref: TableRef, schema: Table, partition_by: str, cluster_by: list[str] | None) -> bigquery.Table:
    table = bigquery.Table(
        str(ref),
        schema=[bigquery.SchemaField(c.name, c.type, mode=c.mode, description=c.description) for c in schema.columns],
    )
    table.description = schema.description
    table.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY, field=partition_by)
    table.clustering_fields = cluster_by
    return table
