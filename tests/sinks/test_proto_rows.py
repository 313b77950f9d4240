"""Encoding insertAll-style rows as Storage Write API protocol buffers (pure: no emulator)."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from functions.schema import ERRORS, HTTP_REQUESTS
from sinks.proto_rows import ProtoRowEncoder, RowRejectedError
from tests.sinks.conftest import error_outcome, http_outcome


def decode(encoder: ProtoRowEncoder, data: bytes) -> Any:
    file = descriptor_pb2.FileDescriptorProto(name="check.proto", package="check")
    file.message_type.add().CopyFrom(encoder.descriptor)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"check.{encoder.descriptor.name}")).FromString(
        data
    )


def test_http_row_round_trips_with_storage_write_types() -> None:
    encoder = ProtoRowEncoder(HTTP_REQUESTS)
    row = http_outcome(1).row
    assert row is not None
    decoded = decode(encoder, encoder.encode(row))
    assert decoded.timestamp == 1714558500123456  # 2024-05-01T10:15:00.123456Z in microseconds
    assert decoded.status == 200 and decoded.latency_seconds == pytest.approx(0.012345)
    assert decoded.resource_labels == row["resource_labels"]
    assert decoded.cache_lookup is True and decoded.HasField("cache_hit") and decoded.cache_hit is False
    assert not decoded.HasField("referer")  # NULL stays unset


def test_bytes_column_is_decoded_from_base64() -> None:
    encoder = ProtoRowEncoder(ERRORS)
    row = error_outcome("e1", b"\x00\xff").row
    assert row is not None
    assert decode(encoder, encoder.encode(row)).payload_bytes == b"\x00\xff"


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("status", "abc"),
        ("status", True),
        ("status", 2**63),
        ("timestamp", "yesterday"),
        ("latency_seconds", "fast"),
        ("cache_hit", "maybe"),
        ("host", 42),
        ("no_such_column", "x"),
    ],
)
def test_values_that_cannot_take_their_type_are_rejected(column: str, value: object) -> None:
    row = http_outcome(1).row
    assert row is not None
    with pytest.raises(RowRejectedError):
        ProtoRowEncoder(HTTP_REQUESTS).encode({**row, column: value})


def test_numeric_strings_are_accepted_as_insert_all_accepts_them() -> None:
    encoder = ProtoRowEncoder(HTTP_REQUESTS)
    row = http_outcome(1).row
    assert row is not None
    decoded = decode(encoder, encoder.encode({**row, "status": "404", "latency_seconds": "1.5", "cache_hit": "true"}))
    assert (decoded.status, decoded.latency_seconds, decoded.cache_hit) == (404, 1.5, True)
