"""Reads a decoded LogEntry: what it is (which format holds a request) and its metadata.

Metadata is read leniently for the archive (an odd field never stops an entry from being
archived) and strictly for a row (a wrong-typed field becomes a `bad_field` error).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import orjson

from functions import formats, timestamps
from functions.fields import BadFieldError, to_str
from functions.request import RequestColumns, complete

LogEntry = dict[str, Any]

# A JSON object with none of these is some other publisher's message, not a LogEntry.
_LOGENTRY_KEYS = frozenset(
    (
        "logName",
        "resource",
        "insertId",
        "timestamp",
        "receiveTimestamp",
        "textPayload",
        "jsonPayload",
        "protoPayload",
        "httpRequest",
        "severity",
    )
)


def looks_like_logentry(value: Any) -> bool:
    return isinstance(value, dict) and ("logName" in value or not _LOGENTRY_KEYS.isdisjoint(value))


def log_id(entry: LogEntry) -> str | None:
    """`projects/p/logs/cloudaudit.googleapis.com%2Factivity` -> `cloudaudit.googleapis.com/activity`."""
    name = entry.get("logName")
    return short_log_id(name) if isinstance(name, str) else None


@lru_cache(maxsize=1024)  # an entry's log is one of a few
def short_log_id(name: str) -> str | None:
    _, sep, short = name.partition("/logs/")
    if not sep or not short:
        return None
    return unquote(short) if "%" in short else short


def event_time(entry: LogEntry, publish_time: str | None) -> str:
    """The row's `timestamp`: the entry's, else when Logging received it, else when it was
    published; processing time only when none of them is a valid timestamp."""
    return (
        timestamps.normalize(entry.get("timestamp"))
        or timestamps.normalize(entry.get("receiveTimestamp"))
        or timestamps.normalize(publish_time)
        or timestamps.now()
    )


def find_request(entry: LogEntry) -> RequestColumns | None:
    """The request columns of the HTTP request this entry records, or None (see functions.formats)."""
    found = formats.find(entry)
    return complete(found) if found is not None else None


def metadata_columns(
    entry: LogEntry, time: str, log_id: str | None, publish_time: str | None, message_id: str | None
) -> dict[str, Any]:
    """The LogEntry half of an `http_requests` row."""
    get = entry.get
    resource = _object(get("resource"), "resource")
    resource_labels = _object(resource.get("labels"), "resource.labels")
    log_name = _text("logName", get("logName"))
    project = _text("resource.labels.project_id", resource_labels.get("project_id"))
    if project is None and log_name is not None and log_name.startswith("projects/"):
        project = log_name.split("/", 2)[1] or None
    receive = get("receiveTimestamp")
    return {
        "timestamp": time,
        "receive_timestamp": timestamps.normalize(receive) if receive is not None else None,
        "publish_time": timestamps.normalize(publish_time) if publish_time is not None else None,
        "insert_id": _text("insertId", get("insertId")),
        "message_id": message_id,
        "log_name": log_name,
        "log_id": log_id,
        "resource_type": _text("resource.type", resource.get("type")),
        "project_id": project,
        "severity": _text("severity", get("severity")),
        "trace": _text("trace", get("trace")),
        "span_id": _text("spanId", get("spanId")),
        "resource_labels": _json(resource_labels),
        "labels": _json(_object(get("labels"), "labels")),
    }


def _text(name: str, value: Any) -> str | None:
    """`to_str` with its commonest case first: this runs several times for every row."""
    if type(value) is str and value and value != "-":
        return value
    return to_str(name, value)


def _object(value: Any, name: str) -> dict[str, Any]:
    if type(value) is dict:
        return value
    if value is None:
        return _NO_FIELDS
    raise BadFieldError(name, value, "an object")


_NO_FIELDS: dict[str, Any] = {}


def _json(value: dict[str, Any]) -> str | None:
    """A JSON column; an object nested too deep to write (a JSON column allows 500 levels,
    the encoder 254) is NULL, by the value rule."""
    if not value:
        return None
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return None
