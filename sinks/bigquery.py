"""Writes a batch's rows to BigQuery: `http_requests` rows and `errors` rows, by either write method.

- `storage_write` (default): the Storage Write API default stream (sinks/storage_write.py).
- `insert_all`: legacy streaming inserts keyed by the LogEntry insertId (sinks/insert_all.py).

Rows BigQuery rejects become `bq_rejected` error rows, so nothing is dropped and nothing is
retried forever. Transient failures are retried within `write_budget_seconds`, then
`RetryableError` tells the caller not to ack. The sink is shared by the concurrent requests a
function instance serves: its clients are created once, lazily, under a lock, and a write keeps
no state outside its own call.

In production Terraform owns the dataset, tables and view; `ensure()` creates them for local use
from functions/schema.py and functions/views.py, the same definitions Terraform reads. The view
`http_requests_dedup` keeps one row per Cloud Logging entry (log name, insertId, timestamp),
falling back to the message id when an entry has no insertId.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from google.cloud import bigquery, bigquery_storage_v1

from functions.config import Settings
from functions.error_row import error_row
from functions.outcome import BQ_REJECTED, Outcome, Row
from functions.schema import ERRORS, HTTP_REQUESTS, Table
from functions.views import HTTP_REQUESTS_DEDUP
from sinks.clients import make_bigquery_client, make_write_client
from sinks.insert_all import InsertAllWriter
from sinks.retry import Budget
from sinks.storage_write import StorageWriteWriter
from sinks.writer import TableRef, Writer

DEDUP_VIEW = HTTP_REQUESTS_DEDUP.name
STAGE = "write"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WriteReport:
    """What one `write` did: rows landed per table, rows BigQuery rejected, API calls made."""

    rows: int = 0
    error_rows: int = 0
    rejected: int = 0
    api_calls: int = 0


class BigQuerySink:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._bigquery_client: bigquery.Client | None = None
        self._write_client: bigquery_storage_v1.BigQueryWriteClient | None = None
        self._writer: Writer = (
            InsertAllWriter(self._bigquery)
            if settings.bigquery_write_method == "insert_all"
            else StorageWriteWriter(self._storage_write)
        )

    def _bigquery(self) -> bigquery.Client:
        with self._lock:
            if self._bigquery_client is None:
                self._bigquery_client = make_bigquery_client(self.settings)
            return self._bigquery_client

    def _storage_write(self) -> bigquery_storage_v1.BigQueryWriteClient:
        with self._lock:
            if self._write_client is None:
                self._write_client = make_write_client(self.settings)
            return self._write_client

    def _ref(self, table: str) -> TableRef:
        project = self.settings.project or self._bigquery().project
        return TableRef(project, self.settings.bigquery_dataset, table)

    def ensure(self) -> None:
        """Creates the dataset, both tables and the dedup view when missing (local use only)."""
        client = self._bigquery()
        requests_ref = self._ref(self.settings.bigquery_table)
        errors_ref = self._ref(self.settings.bigquery_error_table)
        client.create_dataset(bigquery.Dataset(f"{requests_ref.project}.{requests_ref.dataset}"), exists_ok=True)
        client.create_table(_table(requests_ref, HTTP_REQUESTS, "timestamp", ["host", "status"]), exists_ok=True)
        client.create_table(_table(errors_ref, ERRORS, "error_timestamp", None), exists_ok=True)
        view = bigquery.Table(str(self._ref(DEDUP_VIEW)))
        view.view_query = HTTP_REQUESTS_DEDUP.render(requests_table=str(requests_ref))
        client.create_table(view, exists_ok=True)

    def write(self, outcomes: Sequence[Outcome]) -> WriteReport:
        """Writes the `http` rows and the `error` rows of a batch; `other` outcomes have no row."""
        budget = Budget(self.settings.write_budget_seconds)
        http = [o for o in outcomes if o.kind == "http" and o.row is not None]
        errors = [_error_row_of(o) for o in outcomes if o.kind == "error"]
        errors += [
            error_row(o.message, o.payload, BQ_REJECTED, "http outcome without a row", STAGE)
            for o in outcomes
            if o.kind == "http" and o.row is None
        ]
        landed = api_calls = rejected = 0
        if http:
            rows = [o.row for o in http if o.row is not None]
            ref = self._ref(self.settings.bigquery_table)
            result = self._writer.append(ref, HTTP_REQUESTS, rows, [_request_row_id(r) for r in rows], budget)
            landed, api_calls, rejected = len(rows) - len(result.rejected), result.api_calls, len(result.rejected)
            errors += [
                error_row(http[i].message, http[i].payload, BQ_REJECTED, f"BigQuery rejected the row: {reason}", STAGE)
                for i, reason in sorted(result.rejected.items())
            ]
        landed_errors = 0
        if errors:
            landed_errors, calls, errors_rejected = self._write_errors(errors, budget)
            api_calls += calls
            rejected += errors_rejected
        return WriteReport(rows=landed, error_rows=landed_errors, rejected=rejected, api_calls=api_calls)

    def _write_errors(self, rows: list[Row], budget: Budget) -> tuple[int, int, int]:
        """Writes error rows; one BigQuery rejects is written again without its payload, then logged."""
        ref = self._ref(self.settings.bigquery_error_table)
        result = self._writer.append(ref, ERRORS, rows, [_error_row_id(r) for r in rows], budget)
        calls, landed = result.api_calls, len(rows) - len(result.rejected)
        if result.rejected:
            stripped = [_without_payload(rows[i], reason) for i, reason in sorted(result.rejected.items())]
            retry = self._writer.append(ref, ERRORS, stripped, [_error_row_id(r) for r in stripped], budget)
            calls += retry.api_calls
            landed += len(stripped) - len(retry.rejected)
            for i, reason in retry.rejected.items():
                log.error("BigQuery rejected an error row even without its payload: %s: %s", reason, stripped[i])
        return landed, calls, len(result.rejected)


def _table(ref: TableRef, schema: Table, partition_by: str, cluster_by: list[str] | None) -> bigquery.Table:
    table = bigquery.Table(
        str(ref),
        schema=[bigquery.SchemaField(c.name, c.type, mode=c.mode, description=c.description) for c in schema.columns],
    )
    table.description = schema.description
    table.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY, field=partition_by)
    table.clustering_fields = cluster_by
    return table


def _error_row_of(outcome: Outcome) -> Row:
    if outcome.row is not None:
        return outcome.row
    return error_row(outcome.message, outcome.payload, outcome.reason or "unknown", outcome.detail or "", STAGE)


def _request_row_id(row: Row) -> str:
    """insertAll's de-duplication key: the LogEntry's identity, which Cloud Logging defines as
    insertId plus timestamp (as the dedup view does), else the Pub/Sub message id."""
    insert_id = row.get("insert_id")
    if insert_id:
        return f"{insert_id}@{row.get('timestamp')}"
    key = row.get("message_id")
    return str(key) if key else uuid.uuid4().hex


def _error_row_id(row: Row) -> str:
    message_id = row.get("message_id")
    return f"{message_id}:{row.get('reason')}:{row.get('stage')}" if message_id else uuid.uuid4().hex


def _without_payload(row: Row, reason: str) -> Row:
    note = f"payload dropped: BigQuery rejected the error row ({reason}); the archive keeps the message"
    return {**row, "payload": None, "payload_bytes": None, "message": f"{row.get('message') or ''} [{note}]"}
