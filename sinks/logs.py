"""The functions' own log lines: one JSON object per line on stdout, in the fields Cloud Logging
reads from a Cloud Run container's structured output
(cloud.google.com/logging/docs/structured-logging): `severity`, `message`, the label
`logexport_component` (the sink filter excludes entries carrying it, so our own lines never loop
back into the pipeline), and the request's trace when the request carried one.

Written here rather than with google-cloud-logging's StructuredLogHandler, whose filter reads the
Flask request for every record: this formatter only serialises what the caller hands it. What is
logged, and how often, is the callers' choice: one ERROR line per failed delivery, one INFO
summary per drain run and per ingest instance and interval, per-message lines at DEBUG only.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

OWN_LOG_LABEL = "logexport_component"
LOGGER = "logexport"  # our loggers are logexport.<component>; the level applies to all of them

_SEVERITY = {logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARNING", logging.ERROR: "ERROR"}
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})\Z")
_CLOUD_TRACE = re.compile(r"([0-9a-fA-F]{32})(?:/(\d{1,20}))?(?:;o=([01]))?\Z")


@dataclass(frozen=True, slots=True)
class Trace:
    """The trace a request belongs to, as Cloud Logging links it: trace id, span id (16 hex), sampled."""

    trace_id: str
    span_id: str | None = None
    sampled: bool | None = None


def trace_of(headers: Mapping[str, str]) -> Trace | None:
    """From W3C `traceparent`, else `X-Cloud-Trace-Context` (`TRACE/SPAN;o=1`, the span in decimal),
    both of which Cloud Run passes to the function; None when neither is readable. `headers`
    has lower-case names."""
    parent = headers.get("traceparent")
    if parent:
        m = _TRACEPARENT.match(parent.strip().lower())
        if m and m.group(1) != "0" * 32:
            return Trace(m.group(1), m.group(2), bool(int(m.group(3), 16) & 1))
    cloud = headers.get("x-cloud-trace-context")
    if cloud:
        m = _CLOUD_TRACE.match(cloud.strip())
        if m:
            span = f"{int(m.group(2)) & 0xFFFFFFFFFFFFFFFF:016x}" if m.group(2) else None
            return Trace(m.group(1).lower(), span, m.group(3) == "1" if m.group(3) else None)
    return None


class JsonLinesHandler(logging.Handler):
    """Writes each record as one JSON line to the current `sys.stdout`, flushed (Cloud Run reads
    stdout through a pipe; a buffered line would be late, or lost with the instance)."""

    def __init__(self, component: str, project: str | None) -> None:
        super().__init__()
        self.component = component
        self.project = project

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = format_record(record, self.component, self.project)
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


def format_record(record: logging.LogRecord, component: str, project: str | None) -> str:
    entry: dict[str, Any] = {"severity": _SEVERITY.get(record.levelno, "DEFAULT"), "message": record.getMessage()}
    if record.exc_info:  # one line all the same: Error Reporting reads the stack from `message`
        entry["message"] += "\n" + logging.Formatter().formatException(record.exc_info)
    fields = getattr(record, "fields", None)
    if fields:
        entry.update(fields)
    trace = getattr(record, "trace", None)
    if isinstance(trace, Trace) and project:
        entry["logging.googleapis.com/trace"] = f"projects/{project}/traces/{trace.trace_id}"
        if trace.span_id:
            entry["logging.googleapis.com/spanId"] = trace.span_id
        if trace.sampled is not None:
            entry["logging.googleapis.com/trace_sampled"] = trace.sampled
    own = record.name.split(".", 2)[1] if record.name.startswith(f"{LOGGER}.") else component
    entry["logging.googleapis.com/labels"] = {OWN_LOG_LABEL: own}
    entry["logger"] = record.name
    return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def configure(level: str, project: str | None) -> None:
    """Routes every record of this process (ours, the sinks' retry warnings, the client
    libraries' warnings) through one JsonLinesHandler on the root logger; our loggers log at
    `level`, the libraries at WARNING. Idempotent: a second call only updates the settings."""
    root = logging.getLogger()
    component = os.environ.get("FUNCTION_TARGET") or LOGGER  # functions-framework sets it
    handler = next((h for h in root.handlers if isinstance(h, JsonLinesHandler)), None)
    if handler is None:
        root.addHandler(JsonLinesHandler(component, project))
    else:
        handler.component, handler.project = component, project
    logging.getLogger(LOGGER).setLevel(level)
    for name in ("functions", "sinks"):
        logging.getLogger(name).setLevel(min(logging.WARNING, logging.getLevelName(level)))


def log(logger: logging.Logger, level: int, message: str, trace: Trace | None = None, **fields: Any) -> None:
    """One structured line: `fields` become top-level JSON keys (message_id, reason, stage, ...)."""
    if logger.isEnabledFor(level):
        logger.log(level, message, extra={"fields": fields, "trace": trace})


class IntervalCounts:
    """Counts per key, handed out once per interval: one summary line per instance and interval
    instead of one line per message. Thread-safe; the caller logs what `take()` returns."""

    def __init__(self, interval_seconds: float, clock: Callable[[], float]) -> None:
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._since = clock()

    def add(self, key: str) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1

    def take(self, force: bool = False) -> tuple[dict[str, int], float] | None:
        """(counts, seconds covered) when the interval is over (or `force`) and anything was
        counted, resetting them; else None."""
        with self._lock:
            elapsed = self._clock() - self._since
            if not self._counts or (elapsed < self.interval_seconds and not force):
                return None
            counts, self._counts, self._since = self._counts, {}, self._clock()
            return counts, elapsed
