"""Builds `errors` rows: the one place that knows that table's row shape."""

from __future__ import annotations

import base64

import orjson

from functions import timestamps
from functions.message import Message
from functions.outcome import BQ_REJECTED, Row

# An errors row must fit one BigQuery request (10 MB); the archive keeps every byte.
MAX_PAYLOAD_BYTES = 1024 * 1024
WRITE_STAGE = "write"  # the stage of rows the sinks add; functions/pipeline.py names the others


def error_row(message: Message, payload: bytes | None, reason: str, detail: str, stage: str) -> Row:
    """An `errors` row, values encoded as BigQuery's insertAll accepts them.

    `payload` is what we hold of the message data (the raw base64 text when decoding it
    failed); it is kept both as text (when it is UTF-8) and byte for byte, up to
    MAX_PAYLOAD_BYTES, with the message saying when it was cut.
    """
    text: str | None = None
    if payload is not None and len(payload) > MAX_PAYLOAD_BYTES:
        detail = f"{detail} (payload of {len(payload)} bytes cut to {MAX_PAYLOAD_BYTES}; the archive holds it whole)"
        payload = payload[:MAX_PAYLOAD_BYTES]
    if payload is not None:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:  # includes a multi-byte character cut at the limit
            text = None
    return {
        "error_timestamp": timestamps.now(),
        "message_id": message.message_id,
        "publish_time": timestamps.normalize(message.publish_time),
        "subscription": message.subscription,
        "attributes": orjson.dumps(dict(message.attributes)).decode() if message.attributes else None,
        "payload": text,
        "payload_bytes": base64.b64encode(payload).decode("ascii") if payload is not None else None,
        "reason": reason,
        "message": detail,
        "stage": stage,
    }


def rejected(message: Message, payload: bytes, why: str) -> Row:
    """The `bq_rejected` row for a request row BigQuery refused: the message stays findable."""
    return error_row(message, payload, BQ_REJECTED, f"BigQuery rejected the row: {why}", WRITE_STAGE)


def without_payload(row: Row, why: str) -> Row:
    """An error row BigQuery refused, again without its payload (the archive keeps the message)."""
    note = f"payload dropped: BigQuery rejected the error row ({why}); the archive keeps the message"
    return {**row, "payload": None, "payload_bytes": None, "message": f"{row.get('message') or ''} [{note}]"}
