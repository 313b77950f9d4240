"""LogEntry -> RFC 5424 syslog message, and its RFC 6587 framing on a TCP stream: one definition,
shared by `forward` and by `python -m functions syslog`.

    <PRI>1 TIMESTAMP HOSTNAME APP-NAME - - [logentry@11129 insertId="..." trace="..."] MSG

- PRI: facility * 8 + the LogEntry severity (DEBUG 7, INFO 6, NOTICE 5, WARNING 4, ERROR 3,
  CRITICAL 2, ALERT 1, EMERGENCY 0). DEFAULT (no severity) is NOTICE, as `logger(1)` sends
  messages with no priority given.
- TIMESTAMP: the entry's timestamp in UTC with microseconds (RFC 5424 allows six digits),
  else its receiveTimestamp, else the publish time, else NILVALUE.
- HOSTNAME from the monitored resource (pod for GKE containers, service for Cloud Run...);
  APP-NAME the container, else the log id. Both printable US-ASCII within the RFC's lengths.
- Structured data: the LogEntry's insertId, trace and spanId under the SD-ID `logentry@11129`
  (11129 is Google's IANA enterprise number: these are Cloud Logging's own field names). The
  insertId is how a reader recognises the same entry sent twice.
- MSG: textPayload without its trailing newline; for a request, a one-line summary like the
  Logs Explorer's; else jsonPayload.message, else the payload as compact JSON. No BOM.

A message never exceeds `max_bytes` (default Papertrail's 100,000): the MSG is cut on a character
boundary with a marker. Under newline framing, line feeds inside a message are written `#012`,
the escape rsyslog itself uses. Invalid UTF-8 is replaced, never fatal. Data that is not a
LogEntry is skipped with a reason; nothing here raises for bad content.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from functions import logentry, timestamps
from functions.fields import BadFieldError
from functions.formats import appengine, http_request
from functions.outcome import NO_DATA, NOT_JSON, NOT_LOGENTRY

Framing = Literal["octet-counting", "newline"]
FRAMINGS: tuple[Framing, ...] = ("octet-counting", "newline")

DEFAULT_MAX_BYTES = 100_000  # Papertrail's limit for one message over TCP
MIN_MAX_BYTES = 2048  # RFC 5424 6.1: receivers SHOULD accept 2048 octets; the header always fits
SD_ID = "logentry@11129"
LF_ESCAPE = b"#012"  # rsyslog's escape of a control character: '#' and three octal digits
NILVALUE = "-"

# RFC 5424 6.2.1; the names as syslog.h and rsyslog spell them.
FACILITIES = {
    "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7, "uucp": 8,
    "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "audit": 13, "alert": 14, "clock": 15,
    **{f"local{n}": 16 + n for n in range(8)},
}  # fmt: skip
DEFAULT_FACILITY = FACILITIES["user"]

# google.logging.type.LogSeverity: name and number (proto3 JSON writes names; numbers are valid too).
_SEVERITY_BY_NAME = {
    "EMERGENCY": 0, "ALERT": 1, "CRITICAL": 2, "ERROR": 3, "WARNING": 4, "NOTICE": 5, "INFO": 6, "DEBUG": 7,
    "DEFAULT": 5,
}  # fmt: skip
_SEVERITY_BY_NUMBER = ((800, 0), (700, 1), (600, 2), (500, 3), (400, 4), (300, 5), (200, 6), (100, 7))
_DEFAULT_SEVERITY = _SEVERITY_BY_NAME["DEFAULT"]

# Where each monitored resource keeps the name a reader knows it by ("labels." = the entry's own labels).
_HOST_SOURCES: dict[str, tuple[str, ...]] = {
    "k8s_container": ("pod_name",),
    "k8s_pod": ("pod_name",),
    "k8s_node": ("node_name",),
    "k8s_cluster": ("cluster_name",),
    "gke_cluster": ("cluster_name",),
    "cloud_run_revision": ("service_name",),
    "cloud_run_job": ("job_name",),
    "cloud_function": ("function_name",),
    "gae_app": ("module_id",),
    "gce_instance": ("labels.compute.googleapis.com/resource_name", "instance_id"),
    "http_load_balancer": ("forwarding_rule_name", "url_map_name"),
    "http_external_regional_lb_rule": ("forwarding_rule_name", "url_map_name"),
    "internal_http_lb_rule": ("forwarding_rule_name", "url_map_name"),
    "cloudsql_database": ("database_id",),
    "gcs_bucket": ("bucket_name",),
}
_HOST_FALLBACK = ("labels.compute.googleapis.com/resource_name", "project_id")
_MAX_HOSTNAME, _MAX_APP_NAME = 255, 48  # RFC 5424 6.2.4, 6.2.5
_MAX_SD_VALUE_CHARS = 128  # keeps the header and structured data well inside MIN_MAX_BYTES
_NOT_PRINTABLE = re.compile(r"[^\x21-\x7e]")
_SD_ESCAPE = re.compile(r'["\\\]]')


@dataclass(frozen=True, slots=True)
class Options:
    facility: int = DEFAULT_FACILITY
    max_bytes: int = DEFAULT_MAX_BYTES
    framing: Framing = "octet-counting"


@dataclass(frozen=True, slots=True)
class Rendered:
    """One message's rendering: the SYSLOG-MSG bytes (unframed), or why it was skipped.
    `sort_key` (the RFC 3339 timestamp, or "") lets a batch go out in event order."""

    message: bytes | None
    skipped: str | None = None
    detail: str | None = None
    sort_key: str = ""


def render_data(data: bytes | None, options: Options, publish_time: str | None = None) -> Rendered:
    """Pub/Sub message data (raw bytes, as pulled) -> Rendered."""
    if not data:
        return Rendered(None, NO_DATA, "the message data is empty")
    entry = _decode(data)
    if entry is None:
        return Rendered(None, NOT_JSON, "message data is not JSON")
    if not logentry.looks_like_logentry(entry):
        kind = type(entry).__name__ if not isinstance(entry, dict) else "object without LogEntry fields"
        return Rendered(None, NOT_LOGENTRY, f"message data is JSON ({kind}), not a LogEntry")
    time = _timestamp(entry, publish_time)
    return Rendered(render_entry(entry, options, time), sort_key=time or "")


def _decode(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    # orjson refuses invalid UTF-8 and lone surrogates ("\ud800"); neither is worth losing an entry for.
    try:
        return json.loads(data.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None


def render_entry(entry: logentry.LogEntry, options: Options, time: str | None = None) -> bytes:
    """A decoded LogEntry -> the SYSLOG-MSG (no framing), at most `options.max_bytes` long."""
    resource = _dict(entry.get("resource"))
    labels = _dict(resource.get("labels"))
    severity = _severity(entry.get("severity"))
    head = " ".join(
        (
            f"<{options.facility * 8 + severity}>1",
            time if time is not None else (_timestamp(entry, None) or NILVALUE),
            _header_field(_hostname(entry, resource, labels), _MAX_HOSTNAME),
            _header_field(_app_name(entry, resource, labels), _MAX_APP_NAME),
            NILVALUE,  # PROCID
            NILVALUE,  # MSGID
            _structured_data(entry),
        )
    ).encode("utf-8", "replace")
    if options.framing == "newline":
        head = head.replace(b"\n", LF_ESCAPE)  # only structured data values can hold one
    text = _message(entry)
    if not text:
        return head
    body = text.encode("utf-8", "replace")
    if options.framing == "newline":
        body = body.replace(b"\n", LF_ESCAPE)
    room = options.max_bytes - len(head) - 1
    if len(body) > room:
        body = _cut(body, room, options.framing == "newline")
    return head + b" " + body


def frame(message: bytes, framing: Framing) -> bytes:
    """RFC 6587 3.4.1 octet counting (`LEN SP MSG`, RFC 5425's framing for TLS) or 3.4.2
    non-transparent framing (`MSG LF`; `render_entry` escaped the message's own line feeds)."""
    if framing == "newline":
        return message + b"\n"
    return b"%d %b" % (len(message), message)


def _timestamp(entry: logentry.LogEntry, publish_time: str | None) -> str | None:
    return (
        timestamps.normalize(entry.get("timestamp"))
        or timestamps.normalize(entry.get("receiveTimestamp"))
        or timestamps.normalize(publish_time)
    )


def _severity(value: Any) -> int:
    if isinstance(value, str):
        return _SEVERITY_BY_NAME.get(value.upper(), _DEFAULT_SEVERITY)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        for floor, code in _SEVERITY_BY_NUMBER:
            if value >= floor:
                return code
    return _DEFAULT_SEVERITY


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _label(entry: logentry.LogEntry, labels: dict[str, Any], source: str) -> str | None:
    if source.startswith("labels."):
        value = _dict(entry.get("labels")).get(source.removeprefix("labels."))
    else:
        value = labels.get(source)
    return value if isinstance(value, str) and value else None


def _hostname(entry: logentry.LogEntry, resource: dict[str, Any], labels: dict[str, Any]) -> str | None:
    kind = resource.get("type")
    sources = _HOST_SOURCES.get(kind, ()) if isinstance(kind, str) else ()
    for source in (*sources, *_HOST_FALLBACK):
        found = _label(entry, labels, source)
        if found is not None:
            return found
    name = entry.get("logName")
    if isinstance(name, str) and name.startswith("projects/"):
        return name.split("/", 2)[1] or None
    return None


def _app_name(entry: logentry.LogEntry, resource: dict[str, Any], labels: dict[str, Any]) -> str | None:
    if resource.get("type") == "k8s_container":
        container = _label(entry, labels, "container_name")
        if container is not None:
            return container
    return logentry.log_id(entry)


def _header_field(value: str | None, limit: int) -> str:
    """PRINTUSASCII only (RFC 5424 6.1), at most `limit` characters; absent -> NILVALUE."""
    if not value:
        return NILVALUE
    if not (value.isascii() and value.isprintable() and " " not in value):
        value = _NOT_PRINTABLE.sub("_", value)
    return value[:limit]


def _structured_data(entry: logentry.LogEntry) -> str:
    params = []
    for name in ("insertId", "trace", "spanId"):
        value = entry.get(name)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and value != "":
            text = str(value)[:_MAX_SD_VALUE_CHARS]
            if '"' in text or "\\" in text or "]" in text:
                text = _SD_ESCAPE.sub(_backslash, text)
            params.append(f'{name}="{text}"')
    return f"[{SD_ID} {' '.join(params)}]" if params else NILVALUE


def _backslash(match: re.Match[str]) -> str:
    return "\\" + match.group()


def _message(entry: logentry.LogEntry) -> str | None:
    text = entry.get("textPayload")
    if isinstance(text, str):
        return text.rstrip("\r\n")
    summary = _request_summary(entry)
    if summary is not None:
        return summary
    payload = entry.get("jsonPayload")
    if isinstance(payload, dict):
        message = payload.get("message")
        if isinstance(message, str) and message:
            return message.rstrip("\r\n")
        return _compact(payload)
    proto = entry.get("protoPayload")
    if proto is not None:
        return _compact(proto)
    return None


def _request_summary(entry: logentry.LogEntry) -> str | None:
    """`GET 200 10.31 KB 12 ms Go-http-client/1.1 https://blog.example.com/` as the Logs
    Explorer summarises a request; the raw httpRequest as JSON when a field cannot be read."""
    http = entry.get("httpRequest")
    proto = entry.get("protoPayload")
    try:
        fields = appengine.parse(proto, entry) if proto is not None else None
        if fields is None and http is not None:
            fields = http_request.parse(http, entry)
    except BadFieldError:
        return _compact(http)
    if fields is None:
        return None
    status, size, latency = fields.get("status"), fields.get("response_size"), fields.get("latency_seconds")
    parts = (
        fields.get("method"),
        None if status is None else str(status),
        None if size is None else _size(size),
        None if latency is None else _latency(latency),
        fields.get("user_agent"),
        fields.get("url"),
    )
    return " ".join(p for p in parts if p)


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.2f} {unit}"


def _latency(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _compact(value: Any) -> str:
    return orjson.dumps(value).decode()


def _cut(body: bytes, room: int, escaped: bool) -> bytes:
    """The start of `body` that fits `room` bytes with the marker: never half a UTF-8
    character, never half a `#012` escape."""
    cut = max(room - 40, 0)  # the marker below is at most 40 bytes
    while cut > 0 and (body[cut] & 0xC0) == 0x80:  # a continuation byte: back to the character's start
        cut -= 1
    if escaped:
        start = body.rfind(b"#", max(cut - 3, 0), cut)
        if start != -1 and body.startswith(LF_ESCAPE, start):
            cut = start
    return body[:cut] + b" [truncated: %d more bytes]" % (len(body) - cut)
