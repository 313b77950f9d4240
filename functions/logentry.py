"""Reads a decoded LogEntry: what it is (which format holds a request) and its metadata.

Metadata is read leniently for the archive (an odd field never stops an entry from being
archived) and strictly for a row (a wrong-typed field becomes a `bad_field` error).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import orjson

from functions import timestamps
from functions.fields import BadFieldError, to_str
from functions.formats import appengine, combined, envoy, http_request, json_record
from functions.request import RequestColumns

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

_TEXT_FORMATS = (combined.parse, envoy.parse)


def looks_like_logentry(value: Any) -> bool:
    return isinstance(value, dict) and ("logName" in value or not _LOGENTRY_KEYS.isdisjoint(value))


def log_id(entry: LogEntry) -> str | None:
    """`projects/p/logs/cloudaudit.googleapis.com%2Factivity` -> `cloudaudit.googleapis.com/activity`."""
    name = entry.get("logName")
    if not isinstance(name, str):
        return None
    _, sep, short = name.partition("/logs/")
    return unquote(short) if sep and short else None


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
    """The HTTP request this entry records, or None. Only the entry's own fields count:
    an audit log's `protoPayload.request.httpRequest` describes a call, not a served request."""
    http = entry.get("httpRequest")
    proto = entry.get("protoPayload")
    if proto is not None:
        found = appengine.parse(proto, http)
        if found is not None:
            return found
    found = http_request.parse(http)
    if found is not None:
        return found
    text = entry.get("textPayload")
    if isinstance(text, str):
        line = text.rstrip("\r\n")
        for parse in _TEXT_FORMATS:
            found = parse(line)
            if found is not None:
                return found
        return None
    return json_record.parse(entry.get("jsonPayload"))


def metadata_columns(
    entry: LogEntry, time: str, log_id: str | None, publish_time: str | None, message_id: str | None
) -> dict[str, Any]:
    """The LogEntry half of an `http_requests` row."""
    resource = _object(entry, "resource")
    resource_labels = _object(resource, "labels", "resource.labels")
    labels = _object(entry, "labels")
    log_name = to_str("logName", entry.get("logName"))
    project = to_str("resource.labels.project_id", resource_labels.get("project_id"))
    if project is None and log_name is not None and log_name.startswith("projects/"):
        project = log_name.split("/", 2)[1]
    return {
        "timestamp": time,
        "receive_timestamp": timestamps.normalize(entry.get("receiveTimestamp")),
        "publish_time": timestamps.normalize(publish_time),
        "insert_id": to_str("insertId", entry.get("insertId")),
        "message_id": message_id,
        "log_name": log_name,
        "log_id": log_id,
        "resource_type": to_str("resource.type", resource.get("type")),
        "project_id": project,
        "severity": to_str("severity", entry.get("severity")),
        "trace": to_str("trace", entry.get("trace")),
        "span_id": to_str("spanId", entry.get("spanId")),
        "resource_labels": orjson.dumps(resource_labels).decode() if resource_labels else None,
        "labels": orjson.dumps(labels).decode() if labels else None,
    }


def _object(parent: dict[str, Any], key: str, name: str | None = None) -> dict[str, Any]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadFieldError(name or key, value, "an object")
    return value
