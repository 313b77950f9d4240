"""Replay's pure half: an archived line and the object it came from -> the Outcome the live
functions would produce today, and what a replayed day covers.

The archive keeps each LogEntry byte for byte but not the Pub/Sub message around it, so a
replayed row has no message id and no publish time (both NULL). The live pipeline falls back
to the publish time for an entry with neither `timestamp` nor `receiveTimestamp`; the archiver
filed such an entry under that same time's hour, so here the object's `dt`/`hour` takes that
role (the row's timestamp is the start of that hour, never "now").

Error rows of a replay are made deterministic, so that two replays give identical tables: their
`error_timestamp` is the object's hour and their `subscription` is the object's `gs://` URI.
That is also how a later replay finds and replaces them (see sinks/replay.py).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from urllib.parse import unquote

from functions import pipeline
from functions.message import Message
from functions.outcome import Kind, Outcome

ERRORS_DIR = "_errors"  # sinks/archive.py files messages that were no LogEntry there
UNKNOWN_LOG_DIR = "_unknown"  # ...and LogEntries without a logName here (a log id never starts with `_` there)
# {log_dir}/dt=YYYY-MM-DD/hour=HH/{name}, below the archive prefix (sinks/archive.py).
_OBJECT_NAME = re.compile(r"([^/]+)/dt=(\d{4}-\d{2}-\d{2})/hour=([01]\d|2[0-3])/[^/]+\Z")
# A log directory cut to fit Cloud Storage's name limit ends with `~` and 16 hex digits of a hash.
_HASHED_LOG_DIR = re.compile(r".*~[0-9a-f]{16}\Z")


class ReplayError(ValueError):
    """The replay was asked for something it cannot do (bad days, a day still live)."""


@dataclass(frozen=True, slots=True)
class ArchiveObject:
    """One archive object: where it is and which partition it belongs to."""

    uri: str  # gs://bucket/prefix/log_dir/dt=.../hour=.../name.ndjson.gz
    log_dir: str
    day: str
    hour: str

    @property
    def hour_start(self) -> str:
        return f"{self.day}T{self.hour}:00:00.000000Z"

    @property
    def directory(self) -> str:
        """The object's day directory, with a trailing slash: the key of a replay's error rows."""
        return self.uri.split("/hour=", 1)[0] + "/"

    @property
    def log_id(self) -> str | None:
        """The log id its directory names, when the directory was not cut (then the entries say)."""
        if self.log_dir == UNKNOWN_LOG_DIR or _HASHED_LOG_DIR.match(self.log_dir):
            return None
        return unquote(self.log_dir)


def archive_object(bucket: str, prefix: str, name: str) -> ArchiveObject | None:
    """The object's partition, or None for `_errors/` objects and names outside the layout."""
    base = f"{prefix}/" if prefix else ""
    if not name.startswith(base):
        return None
    m = _OBJECT_NAME.match(name, len(base))
    if m is None or m.group(1) == ERRORS_DIR:
        return None
    log_dir, day, hour = m.groups()
    try:
        date.fromisoformat(day)
    except ValueError:
        return None
    return ArchiveObject(f"gs://{bucket}/{name}", log_dir, day, hour)


def replay_line(line: bytes, source: ArchiveObject) -> Outcome:
    """One archived LogEntry through the live pipeline (pipeline.process), with what the archive
    lacks made explicit: the object's hour stands in for the publish time (only as the last
    fallback for the event time), then publish time and message id are NULL in the rows."""
    outcome = pipeline.process(Message(data=line, publish_time=source.hour_start, subscription=source.uri))
    row = outcome.row
    if row is not None:
        row = {**row, "publish_time": None}
        if outcome.kind == "error":
            row["error_timestamp"] = source.hour_start
    return replace(outcome, message=Message(data=line, subscription=source.uri), row=row)


def archive_lines(content: bytes) -> list[bytes]:
    """An object's NDJSON lines (the archiver writes one LogEntry per line, without blank lines)."""
    return [line for line in content.split(b"\n") if line.strip()]


def row_day(outcome: Outcome) -> str | None:
    """The day partition the outcome's row lands in (None for `other`)."""
    if outcome.row is None:
        return None
    key = "timestamp" if outcome.kind == "http" else "error_timestamp"
    return str(outcome.row[key])[:10]


def days_between(first: str, last: str) -> list[str]:
    """`YYYY-MM-DD` days from first to last inclusive."""
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError as e:
        raise ReplayError(f"days are YYYY-MM-DD: {e}") from None
    if end < start:
        raise ReplayError(f"--to {last} is before --from {first}")
    return [(start + timedelta(days=n)).isoformat() for n in range((end - start).days + 1)]


def open_days(days: list[str], now: datetime, settle: timedelta) -> list[str]:
    """Days that have not ended `settle` ago (UTC): live rows may still be arriving."""
    return [d for d in days if now < datetime.fromisoformat(d + "T00:00:00+00:00") + timedelta(days=1) + settle]


@dataclass(slots=True)
class DayReplay:
    """What replaying one day found: the scope it replaces and the counts it reports.

    The scope is the logs that have archive objects that day: rows of other logs are left alone,
    so a day whose archive is missing for some log keeps that log's rows.
    """

    day: str
    log_ids: set[str | None] = field(default_factory=set)  # None for entries without logName
    directories: set[str] = field(default_factory=set)  # ArchiveObject.directory of every object read
    objects: int = 0
    entries: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    rows: int = 0  # http rows written to the day
    misdated: int = 0  # rows whose own day is not the object's (not written; the archive keeps them)

    def add_object(self, source: ArchiveObject) -> None:
        self.objects += 1
        self.directories.add(source.directory)
        if source.log_dir == UNKNOWN_LOG_DIR:
            self.log_ids.add(None)
        elif source.log_id is not None:
            self.log_ids.add(source.log_id)

    def add(self, outcome: Outcome) -> bool:
        """Counts one outcome; False when its row belongs to another day and must not be written."""
        self.entries += 1
        kind: Kind = outcome.kind
        self.by_kind[kind] += 1
        if outcome.kind != "error":
            self.log_ids.add(outcome.log_id)
        if outcome.reason:
            self.reasons[outcome.reason] += 1
        day = row_day(outcome)
        if day is None:
            return False
        if day != self.day:
            self.misdated += 1
            return False
        self.rows += outcome.kind == "http"
        return True

    def merge(self, other: DayReplay) -> DayReplay:
        """Two partial counts of the same day (Beam combines them)."""
        merged = DayReplay(self.day)
        for part in (self, other):
            merged.log_ids |= part.log_ids
            merged.directories |= part.directories
            merged.objects += part.objects
            merged.entries += part.entries
            merged.by_kind.update(part.by_kind)
            merged.reasons.update(part.reasons)
            merged.rows += part.rows
            merged.misdated += part.misdated
        return merged

    @property
    def named_log_ids(self) -> list[str]:
        """Replaced log ids as the `log_id` column holds them (entries without logName are NULL there)."""
        return sorted(i for i in self.log_ids if i is not None)

    @property
    def includes_unknown_log(self) -> bool:
        return None in self.log_ids
