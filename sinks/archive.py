"""Archives every message of a batch to Cloud Storage as gzip NDJSON, losslessly and idempotently.

Layout (Hive-style partitions, for BigQuery external tables and Spark):

    {prefix}/{log_id}/dt=YYYY-MM-DD/hour=HH/{name}.ndjson.gz    one raw LogEntry JSON per line
    {prefix}/_unknown/dt=YYYY-MM-DD/hour=HH/{name}.ndjson.gz    LogEntries without a logName
    {prefix}/_errors/dt=YYYY-MM-DD/hour=HH/{name}.ndjson.gz     messages with no LogEntry to file

- `log_id` is percent-encoded as one path segment ("cloudaudit.googleapis.com/activity" becomes
  "cloudaudit.googleapis.com%2Factivity", as in the LogEntry's own logName), so every object sits at
  the same depth and the partition keys are always the next two segments. A segment over
  MAX_LOG_DIR_BYTES is cut and suffixed with a hash of the log id. Directories starting with `_` are
  the archive's own: a log id's leading `_` is written `%5F` (a log named `_errors` is filed under
  `%5Ferrors`), so no entry can land among the error records.
- `dt`/`hour` are the outcome's event time (UTC): the entry's, or for `_errors/` the publish time.
- `name` is the first 32 hex digits of the SHA-256 of the group's sorted message ids, with
  `-NNN` part numbers when a group is split at `max_object_bytes`. Lines are in message-id order,
  so a redelivered batch, in any order, maps to the same names with the same contents, and
  `if_generation_match=0` makes the second write a 412, counted as present.
- A LogEntry line is the message data byte for byte. Raw CR/LF bytes (only ever whitespace between
  JSON tokens) become spaces so each entry stays one line.
- `_errors/` lines are {"message_id", "publish_time", "attributes", "reason", "detail", "data_b64"}:
  the data may be neither JSON nor UTF-8.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote

import orjson
from google.api_core import exceptions as api_exceptions
from google.cloud import storage  # type: ignore[attr-defined]  # untyped package

from functions import timestamps
from functions.config import ConfigError, Settings
from functions.outcome import Outcome
from functions.replay import ERRORS_DIR, UNKNOWN_LOG_DIR
from sinks import retry
from sinks.clients import make_storage_client

MAX_OBJECT_BYTES = 64 * 1024 * 1024  # uncompressed bytes per object part
MAX_LOG_DIR_BYTES = 256  # leaves room for the prefix, partitions and name within 1,024 bytes
CONTENT_TYPE = "application/x-ndjson"


@dataclass(frozen=True, slots=True)
class ArchiveReport:
    objects_written: int = 0
    objects_present: int = 0
    bytes: int = 0  # uncompressed NDJSON bytes of the objects written or found present
    compressed_bytes: int = 0
    api_calls: int = 0


@dataclass(frozen=True, slots=True)
class _Object:
    name: str
    lines: list[bytes]


class Archiver:
    def __init__(self, settings: Settings, max_object_bytes: int = MAX_OBJECT_BYTES) -> None:
        if not settings.archive_bucket:
            raise ConfigError("ARCHIVE_BUCKET must be set to archive messages")
        self.settings = settings
        self.bucket_name = settings.archive_bucket
        self.max_object_bytes = max_object_bytes
        self._lock = threading.Lock()
        self._bucket: storage.Bucket | None = None

    def _get_bucket(self) -> storage.Bucket:
        with self._lock:
            if self._bucket is None:
                self._bucket = make_storage_client(self.settings).bucket(self.bucket_name)
            return self._bucket

    def archive(self, outcomes: Sequence[Outcome]) -> ArchiveReport:
        """Writes every outcome's message to one object per (log_id, hour) group and part."""
        budget = retry.Budget(self.settings.write_budget_seconds)
        written = present = raw_bytes = compressed_bytes = 0
        for obj in plan(outcomes, self.settings.archive_prefix, self.max_object_bytes):
            size, body = compress(obj.lines)
            created = retry.call(
                partial(self._upload, obj.name, body), budget, f"upload gs://{self.bucket_name}/{obj.name}"
            )
            written += created
            present += not created
            raw_bytes += size
            compressed_bytes += len(body)
        return ArchiveReport(written, present, raw_bytes, compressed_bytes, api_calls=written + present)

    def _upload(self, name: str, body: bytes, timeout: float) -> bool:
        """True when the object was created, False when it already existed (412)."""
        blob = self._get_bucket().blob(name)
        blob.content_encoding = "gzip"
        try:
            blob.upload_from_string(body, content_type=CONTENT_TYPE, if_generation_match=0, retry=None, timeout=timeout)
        except api_exceptions.PreconditionFailed:
            return False
        return True


def plan(outcomes: Sequence[Outcome], prefix: str, max_object_bytes: int) -> list[_Object]:
    """The objects a batch becomes, in a deterministic order; pure, so it is tested without storage."""
    groups: dict[str, dict[str, bytes]] = {}
    for outcome in outcomes:
        directory, line = _place(outcome)
        key = outcome.message.message_id or "sha256:" + hashlib.sha256(outcome.payload).hexdigest()
        groups.setdefault(directory, {}).setdefault(key, line)  # a message twice in a batch is archived once
    objects = []
    for directory in sorted(groups):
        lines = groups[directory]
        digest = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:32]
        parts = _split([lines[key] for key in sorted(lines)], max_object_bytes)
        base = f"{prefix}/{directory}" if prefix else directory
        for number, part in enumerate(parts):
            suffix = f"-{number:03d}" if len(parts) > 1 else ""
            objects.append(_Object(f"{base}/{digest}{suffix}.ndjson.gz", part))
    return objects


def compress(lines: list[bytes]) -> tuple[int, bytes]:
    """An object's NDJSON size and gzip body. Level 6: level 1 halves the gzip CPU (about 2.5 µs
    an entry here) but stores about a third more bytes, which costs more than the CPU it saves
    within the first month of retention (README, cost per million requests)."""
    data = b"\n".join(lines) + b"\n"
    return len(data), gzip.compress(data, compresslevel=6, mtime=0)


def _place(outcome: Outcome) -> tuple[str, bytes]:
    """The partition directory (below the prefix) and the NDJSON line for one outcome."""
    when = outcome.event_time or timestamps.now()  # normalised once, by functions/pipeline.py
    if outcome.kind != "error":
        line = _one_line(outcome.payload)
        if line is not None:
            directory = log_dir(outcome.log_id) if outcome.log_id else UNKNOWN_LOG_DIR
            return f"{directory}/{_partition(when)}", line
    return f"{ERRORS_DIR}/{_partition(when)}", _error_record(outcome)


@functools.lru_cache(maxsize=1024)  # a batch holds a handful of logs: quote each once
def log_dir(log_id: str) -> str:
    """The log's path segment. Cloud Logging allows 512-character log ids, which percent-encode
    past Cloud Storage's 1,024-byte object names; such a name would fail every write and take
    its whole batch to the dead-letter topic, so long segments are cut and made unique by a hash."""
    segment = quote(log_id, safe="")
    if segment.startswith("_"):  # reserved for the archive's own directories
        segment = "%5F" + segment[1:]
    if len(segment) <= MAX_LOG_DIR_BYTES:
        return segment
    return f"{segment[: MAX_LOG_DIR_BYTES - 17]}~{hashlib.sha256(log_id.encode()).hexdigest()[:16]}"


def _partition(rfc3339: str) -> str:
    return f"dt={rfc3339[:10]}/hour={rfc3339[11:13]}"


def _one_line(payload: bytes) -> bytes | None:
    """The payload as one NDJSON line; None when it is not JSON after all."""
    if b"\n" not in payload and b"\r" not in payload:
        return payload
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return payload.replace(b"\r", b" ").replace(b"\n", b" ")


def _error_record(outcome: Outcome) -> bytes:
    message = outcome.message
    return orjson.dumps(
        {
            "message_id": message.message_id,
            "publish_time": message.publish_time,
            "attributes": dict(message.attributes),
            "reason": outcome.reason,
            "detail": outcome.detail,
            "data_b64": base64.b64encode(outcome.payload).decode("ascii"),
        }
    )


def _split(lines: list[bytes], max_bytes: int) -> list[list[bytes]]:
    parts: list[list[bytes]] = [[]]
    size = 0
    for line in lines:
        if parts[-1] and size + len(line) + 1 > max_bytes:
            parts.append([])
            size = 0
        parts[-1].append(line)
        size += len(line) + 1
    return parts
