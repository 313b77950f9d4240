"""The legacy streaming insert (tabledata.insertAll) write method.

Each row carries an insertId, so BigQuery de-duplicates best-effort across retries and
redeliveries. `skipInvalidRows` lets the valid rows of a request land while the invalid ones
come back as per-row errors, in the same call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import orjson
from google.cloud import bigquery

from functions.outcome import Row
from functions.schema import Table
from sinks import retry
from sinks.writer import AppendResult, TableRef, batches

MAX_REQUEST_BYTES = 9 * 1024 * 1024  # the HTTP request limit is 10 MB; leave room for the envelope
MAX_REQUEST_ROWS = 50_000
ROW_OVERHEAD_BYTES = 32  # {"json": ..., "insertId": "..."} around each row


class InsertAllWriter:
    def __init__(self, client: Callable[[], bigquery.Client]) -> None:
        self._client = client

    def append(
        self, ref: TableRef, schema: Table, rows: Sequence[Row], row_ids: Sequence[str], budget: retry.Budget
    ) -> AppendResult:
        result = AppendResult()
        sizes = [
            len(orjson.dumps(row)) + len(row_id) + ROW_OVERHEAD_BYTES for row, row_id in zip(rows, row_ids, strict=True)
        ]
        for index, size in enumerate(sizes):
            if size > MAX_REQUEST_BYTES:
                result.rejected[index] = f"row of {size} bytes exceeds the insertAll request limit"
        sendable = [i for i in range(len(rows)) if i not in result.rejected]
        for batch in batches([sizes[i] for i in sendable], MAX_REQUEST_BYTES, MAX_REQUEST_ROWS):
            indexes = [sendable[i] for i in batch]
            request = partial(self._insert, ref, [rows[i] for i in indexes], [row_ids[i] for i in indexes])
            errors = retry.call(request, budget, f"insertAll into {ref}")
            result.api_calls += 1
            for error in errors:
                reasons = [e.get("message") or e.get("reason", "") for e in error.get("errors", [])]
                result.rejected[indexes[int(error["index"])]] = "; ".join(r for r in reasons if r) or "rejected"
        return result

    def _insert(self, ref: TableRef, rows: list[Row], row_ids: list[str], timeout: float) -> Sequence[dict[str, Any]]:
        # retry=None switches the client's own retry off: sinks.retry owns the budget.
        return self._client().insert_rows_json(
            str(ref),
            rows,
            row_ids=row_ids,
            skip_invalid_rows=True,
            retry=None,  # type: ignore[arg-type]
            timeout=timeout,
        )
