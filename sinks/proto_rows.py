"""Encodes rows for the Storage Write API in the protocol buffer wire format, straight from the one schema.

Building a protobuf message per row with keyword arguments cost about 60 µs; writing the wire
format directly costs a fraction of that and needs no message class. The format is simple:
each value is a key (field number << 3 | wire type) followed by a varint, eight little-endian
bytes, or a length and that many bytes. Column N of functions/schema.py is field N, and the
descriptor sent with each append is built from the same columns, so the two cannot disagree
(tests/sinks/test_proto_rows.py decodes these bytes with the real protobuf runtime).

Types follow the Storage Write API's mapping: TIMESTAMP is int64 microseconds since the epoch
(from the normalised form rows carry, see functions/timestamps.py), JSON is its text in a string,
BYTES raw bytes (rows carry base64, as insertAll takes them). A value that cannot take its
column's type is rejected here, as BigQuery would reject it; what only BigQuery can judge
(valid JSON text, required columns) is left to it.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Callable

from google.protobuf import descriptor_pb2

from functions import timestamps
from functions.outcome import Row
from functions.schema import Table

_FIELD = descriptor_pb2.FieldDescriptorProto
_VARINT, _FIXED64, _LENGTH_DELIMITED = 0, 1, 2
# BigQuery type -> (proto field type, wire type)
_PROTO_TYPES = {
    "STRING": (_FIELD.TYPE_STRING, _LENGTH_DELIMITED),
    "JSON": (_FIELD.TYPE_STRING, _LENGTH_DELIMITED),
    "BYTES": (_FIELD.TYPE_BYTES, _LENGTH_DELIMITED),
    "INT64": (_FIELD.TYPE_INT64, _VARINT),
    "TIMESTAMP": (_FIELD.TYPE_INT64, _VARINT),
    "BOOL": (_FIELD.TYPE_BOOL, _VARINT),
    "FLOAT64": (_FIELD.TYPE_DOUBLE, _FIXED64),
}
_INTEGER = re.compile(r"[+-]?\d+\Z")
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_UINT64_MASK = 2**64 - 1  # a negative int64 is sent as its 64-bit two's complement: ten varint bytes
_SHORT_LENGTHS = tuple(bytes((n,)) for n in range(128))  # one-byte varints: most lengths in a row
_DOUBLE = struct.Struct("<d").pack
_BOOL_TEXT = {"true": True, "false": False}

Encode = Callable[[object], bytes]  # a column's value -> its key and value bytes


class RowRejectedError(ValueError):
    """A row cannot be encoded for its table; the message says why, like BigQuery's own."""


def varint(value: int) -> bytes:
    """The base-128 varint of a non-negative integer, least significant group first."""
    if value < 128:
        return _SHORT_LENGTHS[value]
    groups = []
    while value > 127:
        groups.append(value & 0x7F | 0x80)
        value >>= 7
    groups.append(value)
    return bytes(groups)


def descriptor(table: Table) -> descriptor_pb2.DescriptorProto:
    """The row type AppendRows needs with the first request: column N is optional field N."""
    name = "".join(part.capitalize() for part in table.name.split("_")) + "Row"
    proto = descriptor_pb2.DescriptorProto(name=name)
    for number, column in enumerate(table.columns, start=1):
        if column.type not in _PROTO_TYPES:
            raise NotImplementedError(f"{table.name}.{column.name}: no proto mapping for {column.type}")
        proto.field.add(name=column.name, number=number, type=_PROTO_TYPES[column.type][0], label=_FIELD.LABEL_OPTIONAL)
    return proto


class ProtoRowEncoder:
    """One table's row type: its descriptor (sent with each append) and `encode(row) -> bytes`."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.descriptor = descriptor(table)
        self._fields: dict[str, Encode] = {}
        for number, column in enumerate(table.columns, start=1):
            key = varint(number << 3 | _PROTO_TYPES[column.type][1])
            self._fields[column.name] = _ENCODERS[column.type](key, column.type.lower(), column.name)

    def encode(self, row: Row) -> bytes:
        """The row's serialized message; NULL (None) values are left out, so they stay unset."""
        fields = self._fields
        parts = []
        for name, value in row.items():
            encode = fields.get(name)
            if encode is None:
                raise RowRejectedError(f"no such field: {name}.")
            if value is not None:
                parts.append(encode(value))
        return b"".join(parts)


def _bad(type_name: str, column: str, value: object) -> RowRejectedError:
    return RowRejectedError(f"Cannot convert value to {type_name} (bad value): {value!r} in {column}")


def _string(key: bytes, type_name: str, column: str) -> Encode:
    def encode(value: object) -> bytes:
        if type(value) is not str:
            raise _bad(type_name, column, value)
        try:
            data = value.encode()
        except UnicodeEncodeError:  # a lone surrogate: not UTF-8, so not a protobuf string
            raise _bad(type_name, column, value) from None
        size = len(data)
        return key + (_SHORT_LENGTHS[size] if size < 128 else varint(size)) + data

    return encode


def _bytes(key: bytes, type_name: str, column: str) -> Encode:
    def encode(value: object) -> bytes:
        if not isinstance(value, str):
            raise _bad(type_name, column, value)
        try:
            data = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _bad(type_name, column, value) from None
        return key + varint(len(data)) + data

    return encode


def _int64(key: bytes, type_name: str, column: str) -> Encode:
    def encode(value: object) -> bytes:
        if isinstance(value, str) and _INTEGER.match(value):
            value = int(value)
        if type(value) is not int or not _INT64_MIN <= value <= _INT64_MAX:
            raise _bad(type_name, column, value)
        return key + varint(value & _UINT64_MASK)

    return encode


def _timestamp(key: bytes, type_name: str, column: str) -> Encode:
    def encode(value: object) -> bytes:
        micros = timestamps.micros(value)
        if micros is None:
            raise _bad(type_name, column, value)
        return key + varint(micros & _UINT64_MASK)

    return encode


def _float64(key: bytes, type_name: str, column: str) -> Encode:
    def encode(value: object) -> bytes:
        try:
            if type(value) is float or type(value) is int:
                return key + _DOUBLE(value)
            if isinstance(value, str):
                return key + _DOUBLE(float(value))
        except (ValueError, OverflowError, struct.error):  # not a number, or an integer beyond any double
            pass
        raise _bad(type_name, column, value)

    return encode


def _bool(key: bytes, type_name: str, column: str) -> Encode:
    def encode(value: object) -> bytes:
        truth = value if isinstance(value, bool) else _BOOL_TEXT.get(value.lower()) if isinstance(value, str) else None
        if truth is None:
            raise _bad(type_name, column, value)
        return key + (b"\x01" if truth else b"\x00")

    return encode


_ENCODERS: dict[str, Callable[[bytes, str, str], Encode]] = {
    "STRING": _string,
    "JSON": _string,
    "BYTES": _bytes,
    "INT64": _int64,
    "TIMESTAMP": _timestamp,
    "FLOAT64": _float64,
    "BOOL": _bool,
}
