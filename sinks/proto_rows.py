"""Encodes insertAll-style rows as protocol buffers for the Storage Write API.

The message type is built at runtime from the one schema definition (functions/schema.py), so
there is no generated code to keep in step. Types follow the Storage Write API's mapping:
TIMESTAMP is int64 microseconds since the epoch, JSON is its text in a string, BYTES raw bytes.
A value that cannot take its column's type is rejected here, as BigQuery would reject it;
what only BigQuery can judge (valid JSON text, required columns) is left to it.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory

from functions import timestamps
from functions.outcome import Row
from functions.schema import Column, Table

_FIELD = descriptor_pb2.FieldDescriptorProto
_PROTO_TYPES = {
    "STRING": _FIELD.TYPE_STRING,
    "JSON": _FIELD.TYPE_STRING,
    "INT64": _FIELD.TYPE_INT64,
    "TIMESTAMP": _FIELD.TYPE_INT64,
    "FLOAT64": _FIELD.TYPE_DOUBLE,
    "BOOL": _FIELD.TYPE_BOOL,
    "BYTES": _FIELD.TYPE_BYTES,
}
_INTEGER = re.compile(r"[+-]?\d+\Z")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class RowRejectedError(ValueError):
    """A row cannot be encoded for its table; the message says why, like BigQuery's own."""


def _descriptor(table: Table) -> descriptor_pb2.DescriptorProto:
    proto = descriptor_pb2.DescriptorProto(name=_message_name(table))
    for number, column in enumerate(table.columns, start=1):
        if column.type not in _PROTO_TYPES:
            raise NotImplementedError(f"{table.name}.{column.name}: no proto mapping for {column.type}")
        proto.field.add(name=column.name, number=number, type=_PROTO_TYPES[column.type], label=_FIELD.LABEL_OPTIONAL)
    return proto


def _message_name(table: Table) -> str:
    return "".join(part.capitalize() for part in table.name.split("_")) + "Row"


class ProtoRowEncoder:
    """One table's row type: its descriptor (sent with each append) and `encode(row) -> bytes`."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.descriptor = _descriptor(table)
        file = descriptor_pb2.FileDescriptorProto(name=f"{table.name}.proto", package="logexport", syntax="proto2")
        file.message_type.add().CopyFrom(self.descriptor)
        pool = descriptor_pool.DescriptorPool()
        pool.Add(file)
        self._message = message_factory.GetMessageClass(pool.FindMessageTypeByName(f"logexport.{self.descriptor.name}"))
        self._columns = {c.name: c for c in table.columns}

    def encode(self, row: Row) -> bytes:
        unknown = [key for key in row if key not in self._columns]
        if unknown:
            raise RowRejectedError(f"no such field: {unknown[0]}.")
        values = {key: _convert(self._columns[key], value) for key, value in row.items() if value is not None}
        try:
            encoded: message.Message = self._message(**values)
        except (TypeError, ValueError) as error:
            raise RowRejectedError(str(error)) from None
        return encoded.SerializeToString()


def _convert(column: Column, value: object) -> Any:
    converted = _CONVERTERS[column.type](value)
    if converted is None:
        raise RowRejectedError(f"Cannot convert value to {column.type.lower()} (bad value): {value!r} in {column.name}")
    return converted


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int64(value: object) -> int | None:
    if isinstance(value, str) and _INTEGER.match(value):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and _INT64_MIN <= value <= _INT64_MAX:
        return value
    return None


def _float64(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    return {"true": True, "false": False}.get(value.lower()) if isinstance(value, str) else None


def _timestamp_micros(value: object) -> int | None:
    normalized = timestamps.normalize(value)
    if normalized is None:
        return None
    moment = datetime.strptime(normalized, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND


def _bytes(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


_CONVERTERS = {
    "STRING": _string,
    "JSON": _string,
    "INT64": _int64,
    "TIMESTAMP": _timestamp_micros,
    "FLOAT64": _float64,
    "BOOL": _bool,
    "BYTES": _bytes,
}
