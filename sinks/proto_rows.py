"""Encodes rows as protocol buffers for the Storage Write API, with the message type built at
runtime from the one schema (functions/schema.py): column N is optional field N.

Speed matters here: `drain` encodes every row of every batch. Building a message with keyword
arguments after converting every value in Python cost about 30-60 µs a row; setting the fields
one by one on an empty message lets the protobuf runtime (upb, in C) check and store the values
that already have their type, which is most of them, and this takes about 6 µs. Hand-writing
the wire format in Python was measured too: about 12 µs, the per-field Python work being the cost.

Types follow the Storage Write API's mapping: TIMESTAMP is int64 microseconds since the epoch
(from RFC 3339 text, normally the form functions/timestamps.py gives), JSON is its text in a
string, BYTES raw bytes (rows carry base64, as insertAll takes them). insertAll's lenient
strings ("404" for an INT64, "true" for a BOOL) are accepted too, and so is UTF-8 `bytes` for a
STRING (the runtime's own leniency; the parser never makes one). A value that cannot take its
column's type is rejected here, as BigQuery would reject it; what only BigQuery can judge (valid
JSON text, required columns) is left to it.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from google.protobuf import descriptor_pb2, descriptor_pool, message, message_factory

from functions import timestamps
from functions.outcome import Row
from functions.schema import Column, Table

_FIELD = descriptor_pb2.FieldDescriptorProto
_PROTO_TYPES = {
    "STRING": _FIELD.TYPE_STRING,
    "JSON": _FIELD.TYPE_STRING,
    "BYTES": _FIELD.TYPE_BYTES,
    "INT64": _FIELD.TYPE_INT64,
    "TIMESTAMP": _FIELD.TYPE_INT64,
    "FLOAT64": _FIELD.TYPE_DOUBLE,
    "BOOL": _FIELD.TYPE_BOOL,
}
_INTEGER = re.compile(r"[+-]?\d+\Z")
_BOOL_TEXT = {"true": True, "false": False}

Convert = Callable[[object], object]  # a row value -> what the field takes, or None when it cannot


class RowRejectedError(ValueError):
    """A row cannot be encoded for its table; the message says why, like BigQuery's own."""


def descriptor(table: Table) -> descriptor_pb2.DescriptorProto:
    """The row type AppendRows needs with the first request."""
    name = "".join(part.capitalize() for part in table.name.split("_")) + "Row"
    proto = descriptor_pb2.DescriptorProto(name=name)
    for number, column in enumerate(table.columns, start=1):
        if column.type not in _PROTO_TYPES:
            raise NotImplementedError(f"{table.name}.{column.name}: no proto mapping for {column.type}")
        proto.field.add(name=column.name, number=number, type=_PROTO_TYPES[column.type], label=_FIELD.LABEL_OPTIONAL)
    return proto


class ProtoRowEncoder:
    """One table's row type: its descriptor (sent with each append) and `encode(row) -> bytes`."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.descriptor = descriptor(table)
        file = descriptor_pb2.FileDescriptorProto(name=f"{table.name}.proto", package="logexport", syntax="proto2")
        file.message_type.add().CopyFrom(self.descriptor)
        pool = descriptor_pool.DescriptorPool()
        pool.Add(file)
        self._message = message_factory.GetMessageClass(pool.FindMessageTypeByName(f"logexport.{self.descriptor.name}"))
        self._columns = {c.name: c for c in table.columns}
        # Converted before setting: the runtime cannot take these as rows carry them, or takes
        # what BigQuery refuses (a bool as a FLOAT64, an integer as a BOOL).
        self._always = {c.name: _ALWAYS[c.type] for c in table.columns if c.type in _ALWAYS}
        # Converted only when the runtime refuses the value: insertAll's numeric strings.
        self._lenient = {c.name: _LENIENT[c.type] for c in table.columns if c.type in _LENIENT}

    def encode(self, row: Row) -> bytes:
        """The row's serialized message; NULL (None) values are left out, so they stay unset."""
        encoded: message.Message = self._message()
        always = self._always
        for name, value in row.items():
            if value is None:
                if name not in self._columns:
                    raise RowRejectedError(f"no such field: {name}.")
                continue
            convert = always.get(name)
            field_value = value if convert is None else self._converted(name, value, convert)
            try:
                setattr(encoded, name, field_value)
            except AttributeError:
                raise RowRejectedError(f"no such field: {name}.") from None
            except (TypeError, ValueError, OverflowError):  # includes UnicodeError: not UTF-8 text
                self._set_lenient(encoded, name, value)
        return encoded.SerializeToString()

    def _set_lenient(self, encoded: message.Message, name: str, value: object) -> None:
        """A value the runtime refused, as insertAll would take it (a numeric string), else rejected."""
        lenient = self._lenient.get(name)
        converted = lenient(value) if lenient is not None else None
        if converted is None:
            raise self._bad(name, value)
        try:
            setattr(encoded, name, converted)
        except (TypeError, ValueError, OverflowError):
            raise self._bad(name, value) from None

    def _converted(self, name: str, value: object, convert: Convert) -> object:
        converted = convert(value)
        if converted is None:
            raise self._bad(name, value)
        return converted

    def _bad(self, name: str, value: object) -> RowRejectedError:
        column: Column = self._columns[name]
        return RowRejectedError(f"Cannot convert value to {column.type.lower()} (bad value): {value!r} in {name}")


def _bytes(value: object) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _float64(value: object) -> float | None:
    if type(value) is float:
        return value
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:  # beyond any double
            return None
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    return _BOOL_TEXT.get(value.lower()) if isinstance(value, str) else None


def _int64_text(value: object) -> int | None:
    if isinstance(value, str) and _INTEGER.match(value):
        return int(value)  # the runtime checks the range
    return None


def _timestamp(value: object) -> int | None:
    """Rows from the parser carry the normalised form; any other RFC 3339 text, which insertAll
    takes too, is normalised here so that a row lands the same by either write method."""
    micros = timestamps.micros(value)
    return micros if micros is not None else timestamps.micros(timestamps.normalize(value))


_ALWAYS: dict[str, Convert] = {
    "TIMESTAMP": _timestamp,
    "BYTES": _bytes,
    "FLOAT64": _float64,
    "BOOL": _bool,
}
_LENIENT: dict[str, Convert] = {"INT64": _int64_text}
