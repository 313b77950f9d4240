"""Rows as Storage Write API protocol buffers (sinks/proto_rows.py): any row of the schema's types
decodes, with a class built independently from the descriptor sent to AppendRows, to the values
BigQuery must store (timestamps in microseconds, base64 as bytes, NULL unset). Pure: no emulator."""

from __future__ import annotations

import base64
import math
import struct
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory
from hypothesis import given
from hypothesis import strategies as st

from functions import timestamps
from functions.schema import ERRORS, HTTP_REQUESTS, TABLES, Column, Table
from sinks.proto_rows import ProtoRowEncoder, RowRejectedError
from tests.sinks.conftest import error_outcome, http_outcome

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def message_class(table: Table) -> type[message.Message]:
    """The protobuf runtime's own class for the descriptor AppendRows receives."""
    file = descriptor_pb2.FileDescriptorProto(name=f"{table.name}.proto", package="check", syntax="proto2")
    file.message_type.add().CopyFrom(ProtoRowEncoder(table).descriptor)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"check.{file.message_type[0].name}"))


DECODERS = {table.name: message_class(table) for table in TABLES}
ENCODERS = {table.name: ProtoRowEncoder(table) for table in TABLES}


def decode(table: Table, data: bytes) -> Any:
    return DECODERS[table.name].FromString(data)


def expected(column: Column, value: object) -> object:
    """What the runtime must read back, computed without the encoder's helpers."""
    if column.type == "TIMESTAMP":
        moment = datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        return (moment - _EPOCH) // timedelta(microseconds=1)
    if column.type == "BYTES":
        return base64.b64decode(str(value))
    if column.type == "FLOAT64":
        return float(value)  # type: ignore[arg-type]
    return value


def _values(column: Column) -> st.SearchStrategy[object]:
    by_type: dict[str, st.SearchStrategy[object]] = {
        "STRING": st.text(),
        "JSON": st.dictionaries(st.text(max_size=5), st.integers()).map(str),
        "INT64": st.integers(-(2**63), 2**63 - 1),
        "TIMESTAMP": st.datetimes(timezones=st.just(UTC)).map(timestamps.format_utc),
        "FLOAT64": st.floats(allow_nan=True) | st.integers(-(2**53), 2**53),
        "BOOL": st.booleans(),
        "BYTES": st.binary().map(lambda b: base64.b64encode(b).decode()),
    }
    return st.none() | by_type[column.type]


def rows(table: Table) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries({c.name: _values(c) for c in table.columns})


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.name)
@given(data=st.data())
def test_any_row_decodes_to_what_bigquery_must_store(table: Table, data: st.DataObject) -> None:
    row = data.draw(rows(table))
    encoded = ENCODERS[table.name].encode(row)
    decoded = decode(table, encoded)
    for column in table.columns:
        value = row[column.name]
        if value is None:
            assert not decoded.HasField(column.name), column.name  # NULL stays unset
            continue
        got, want = getattr(decoded, column.name), expected(column, value)
        if column.type == "FLOAT64":
            assert isinstance(want, float)
            assert struct.pack("<d", got) == struct.pack("<d", want) or (math.isnan(got) and math.isnan(want))
        else:
            assert got == want, column.name


def test_http_row_as_the_parser_builds_it() -> None:
    row = http_outcome(1).row
    assert row is not None
    decoded = decode(HTTP_REQUESTS, ENCODERS["http_requests"].encode(row))
    assert decoded.timestamp == 1714558500123456  # 2024-05-01T10:15:00.123456Z in microseconds
    assert decoded.status == 200 and decoded.latency_seconds == pytest.approx(0.012345)
    assert decoded.resource_labels == row["resource_labels"]
    assert decoded.cache_lookup is True and decoded.HasField("cache_hit") and decoded.cache_hit is False
    assert not decoded.HasField("referer")


def test_bytes_column_is_decoded_from_base64() -> None:
    row = error_outcome("e1", b"\x00\xff").row
    assert row is not None
    assert decode(ERRORS, ENCODERS["errors"].encode(row)).payload_bytes == b"\x00\xff"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status", "abc"),
        ("status", True),
        ("status", 2**63),
        ("status", 1.5),
        ("status", "99999999999999999999"),
        ("timestamp", "yesterday"),
        ("timestamp", "2024-02-30T10:15:00.000000Z"),
        ("latency_seconds", "fast"),
        ("latency_seconds", 10**400),
        ("latency_seconds", False),
        ("cache_hit", "maybe"),
        ("cache_hit", 1),
        ("host", 42),
        ("host", "\ud800"),  # a lone surrogate is not UTF-8
        ("host", b"\xff"),
        ("no_such_column", "x"),
        ("no_such_column", None),
    ],
)
def test_values_that_cannot_take_their_type_are_rejected(column: str, value: object) -> None:
    row = http_outcome(1).row
    assert row is not None
    with pytest.raises(RowRejectedError):
        ENCODERS["http_requests"].encode({**row, column: value})


def test_strings_are_accepted_as_insert_all_accepts_them() -> None:
    row = http_outcome(1).row
    assert row is not None
    lenient = {
        "status": "404",
        "latency_seconds": "1.5",
        "cache_hit": "TRUE",
        "publish_time": "2024-05-01T12:15:01+02:00",
    }
    decoded = decode(HTTP_REQUESTS, ENCODERS["http_requests"].encode({**row, **lenient}))
    assert (decoded.status, decoded.latency_seconds, decoded.cache_hit) == (404, 1.5, True)
    assert decoded.publish_time == 1714558501000000  # 2024-05-01T10:15:01Z
