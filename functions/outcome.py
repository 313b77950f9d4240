"""What one Pub/Sub message becomes: exactly one of `http`, `other` or `error`.

An outcome carries everything the sinks need and nothing they must recompute:
the BigQuery row for its table, and the archive's partition key and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from functions.message import Message

Kind = Literal["http", "other", "error"]

Row = dict[str, Any]

# Stable reason codes for error rows. Sinks add `bq_rejected`.
BAD_ENVELOPE = "bad_envelope"
NO_DATA = "no_data"
BAD_BASE64 = "bad_base64"
TOO_LARGE = "too_large"
NOT_UTF8 = "not_utf8"
NOT_JSON = "not_json"
NOT_LOGENTRY = "not_logentry"
BAD_FIELD = "bad_field"
BQ_REJECTED = "bq_rejected"
INTERNAL_ERROR = "internal_error"  # a bug met while processing this message: contained, never fatal


@dataclass(slots=True)  # not frozen: a frozen init costs a setattr call per field, on every message
class Outcome:
    """The result of processing one message (never changed once built: copy with `dataclasses.replace`).

    `row` is the `http_requests` row for `http`, the `errors` row for `error`, and None
    for `other`. `payload` is the decoded message data, archived byte for byte; `log_id`
    (None when the entry has no logName) and `event_time` choose its archive partition; `log_id`
    is None for errors, which the archive files under `_errors/`. `event_time` is normalised
    once, by functions/pipeline.py: the entry's time, or for errors the publish time
    (else when the error was recorded).
    """

    kind: Kind
    message: Message
    payload: bytes
    row: Row | None = None
    reason: str | None = None
    detail: str | None = None
    log_id: str | None = None
    event_time: str | None = None
