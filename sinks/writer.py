"""What the BigQuery sink asks of a write method, and the request-size batching both share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from functions.outcome import Row
from functions.schema import Table
from sinks.retry import Budget


@dataclass(frozen=True, slots=True)
class TableRef:
    project: str
    dataset: str
    table: str

    def __str__(self) -> str:
        return f"{self.project}.{self.dataset}.{self.table}"


@dataclass(slots=True)
class AppendResult:
    """Rows BigQuery rejected (index in the rows given -> its reason) and the API calls it took."""

    rejected: dict[int, str] = field(default_factory=dict)
    api_calls: int = 0


class Writer(Protocol):
    def append(
        self, ref: TableRef, schema: Table, rows: Sequence[Row], row_ids: Sequence[str], budget: Budget
    ) -> AppendResult:
        """Writes `rows` to `ref`; every row either lands or is in `rejected`, else it raises."""
        ...


def batches(sizes: Sequence[int], max_bytes: int, max_rows: int) -> list[list[int]]:
    """Splits row indexes, in order, into requests of at most `max_bytes` and `max_rows` each.

    A row larger than `max_bytes` gets a request of its own (the caller rejects it first).
    """
    result: list[list[int]] = []
    current: list[int] = []
    current_bytes = 0
    for index, size in enumerate(sizes):
        if current and (current_bytes + size > max_bytes or len(current) >= max_rows):
            result.append(current)
            current, current_bytes = [], 0
        current.append(index)
        current_bytes += size
    if current:
        result.append(current)
    return result
