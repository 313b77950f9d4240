"""What BigQuery accepts in a row, derived from functions/schema.py: a column added there is
checked here with no change (by its type, mode and `minimum`)."""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from functions.schema import Column, Table

INT64 = (-(2**63), 2**63 - 1)
# The one form the processor writes (functions/timestamps.py): UTC, microseconds, Z.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z", re.ASCII)


def _string(value: Any) -> str | None:
    if not isinstance(value, str):
        return "not a string"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "not valid UTF-8 (a lone surrogate)"
    return None


def _int64(value: Any) -> str | None:
    if type(value) is not int:
        return "not an integer"
    return None if INT64[0] <= value <= INT64[1] else "outside INT64"


def _float64(value: Any) -> str | None:
    if type(value) not in (int, float):
        return "not a number"
    return None if math.isfinite(value) else "not finite"


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "not a boolean"


def _timestamp(value: Any) -> str | None:
    if not isinstance(value, str) or not _TIMESTAMP.match(value) or value.startswith("0000"):
        return "not a UTC timestamp with microseconds in 0001-9999"
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return "no such moment"
    return None


def _json(value: Any) -> str | None:
    if not isinstance(value, str):
        return "not JSON text"
    try:
        orjson.loads(value)
    except orjson.JSONDecodeError:
        return "not valid JSON"
    return None


def _bytes(value: Any) -> str | None:
    if not isinstance(value, str):
        return "not base64 text"
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        return "not valid base64"
    return None


_TYPES: dict[str, Callable[[Any], str | None]] = {
    "STRING": _string, "INT64": _int64, "FLOAT64": _float64, "BOOL": _bool,
    "TIMESTAMP": _timestamp, "JSON": _json, "BYTES": _bytes,
}  # fmt: skip


def column_problem(column: Column, value: Any) -> str | None:
    if value is None:
        return "NULL in a REQUIRED column" if column.mode == "REQUIRED" else None
    problem = _TYPES[column.type](value)
    if problem is None and column.minimum is not None and value < column.minimum:
        problem = f"below {column.minimum}"
    return problem


def problems(table: Table, row: dict[str, Any]) -> list[str]:
    """Everything BigQuery (or the column's meaning) would refuse in `row`; empty when valid."""
    found = [f"{name}: not a column of {table.name}" for name in row.keys() - set(table.column_names)]
    found += [f"{c.name}: missing" for c in table.columns if c.name not in row]
    for column in table.columns:
        if column.name in row:
            problem = column_problem(column, row[column.name])
            if problem is not None:
                found.append(f"{column.name}: {problem} ({row[column.name]!r:.80})")
    return found
