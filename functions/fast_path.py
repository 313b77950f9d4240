"""The common case, decoded typed: a LogEntry as Cloud Logging exports it, read with msgspec.

msgspec decodes straight into structs of the fields a row needs, each of the type proto3 JSON
gives it (strings, int64 sizes as strings, `status` a number, booleans), checking types and
UTF-8 in C; `resource` and `labels` are read once per distinct JSON text. The general path
(`pipeline.read`: orjson, then readers that accept any JSON) stays the definition of every
outcome: whatever this module does not take exactly as the general path would, it hands back
(None) and the message goes the general way. That covers another type anywhere, a field this
module does not declare, numbers orjson reads otherwise (integers beyond 64 bits, floats beyond
a double), a `protoPayload`, and JSON deeper than the structs. tests/functions/test_fast_path.py
checks that both paths give the same outcome for every input this one takes.

Why it exists: the parse measured ~0.8x the naive script (bench/parse.py) with orjson and
per-field checks in Python; typed decoding moves those checks into C.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import msgspec
import orjson
from msgspec import UNSET, Raw, UnsetType

from functions import formats, timestamps, user_agent
from functions.fields import INT64_MAX, BadFieldError, duration_seconds, ip_without_port, split_url, to_int
from functions.logentry import short_log_id
from functions.message import Message
from functions.outcome import Outcome
from functions.request import fill
from functions.schema import HTTP_REQUESTS

# A number a count column holds as it is; any other number makes msgspec refuse the message.
_Count = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]
# A JSON payload as orjson reads it, three levels deep. Integers are bounded because orjson
# makes a float of one beyond 64 bits (and refuses one beyond a double), msgspec an int;
# msgspec and orjson read every float alike. Anything else is the general path's.
_Int = Annotated[int, msgspec.Meta(ge=-(2**63), le=INT64_MAX)]
_Scalar = str | _Int | float | bool | None
_Nested = _Scalar | list[_Scalar] | dict[str, _Scalar]
_Payload = dict[str, _Scalar | list[_Nested] | dict[str, _Nested]]


class _HttpRequest(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """google.logging.type.HttpRequest in proto3 JSON (functions/formats/http_request.py).
    UNSET tells an absent key from null where the general reader looks at keys."""

    requestMethod: str | None | UnsetType = UNSET  # noqa: N815  # the JSON's names
    requestUrl: str | None | UnsetType = UNSET  # noqa: N815
    requestSize: str | None = None  # noqa: N815
    status: _Count | None | UnsetType = UNSET
    responseSize: str | None = None  # noqa: N815
    userAgent: str | None = None  # noqa: N815
    remoteIp: str | None = None  # noqa: N815
    serverIp: str | None = None  # noqa: N815
    referer: str | None = None
    latency: str | None = None
    cacheLookup: bool | None = None  # noqa: N815
    cacheHit: bool | None = None  # noqa: N815
    cacheValidatedWithOriginServer: bool | None = None  # noqa: N815
    cacheFillBytes: str | None = None  # noqa: N815
    protocol: str | None = None


class _Resource(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    type: str | None = None
    labels: dict[str, str] | None = None


# Read once per distinct JSON text: the entries of one load balancer or one pod share them.
_decode_resource = msgspec.json.Decoder(_Resource | None).decode
_decode_labels = msgspec.json.Decoder(dict[str, str] | None).decode
_CACHE_SIZE = 1024
# resource JSON -> (resource_type, its project_id label, resource_labels column)
_RESOURCES: dict[bytes, tuple[str | None, str | None, str | None]] = {}
_LABELS: dict[bytes, str | None] = {}  # labels JSON -> labels column


class _LogEntry(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """google.logging.v2.LogEntry (cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry).
    The rare fields no row reads stay raw JSON (an empty Raw: absent)."""

    logName: str | None | UnsetType = UNSET  # noqa: N815
    resource: Raw = Raw()
    timestamp: str | None | UnsetType = UNSET
    receiveTimestamp: str | None | UnsetType = UNSET  # noqa: N815
    severity: str | None | UnsetType = UNSET
    insertId: str | None | UnsetType = UNSET  # noqa: N815
    httpRequest: _HttpRequest | None | UnsetType = UNSET  # noqa: N815
    labels: Raw = Raw()
    trace: str | None = None
    spanId: str | None = None  # noqa: N815
    traceSampled: bool | None = None  # noqa: N815
    textPayload: str | None | UnsetType = UNSET  # noqa: N815
    jsonPayload: _Payload | None | UnsetType = UNSET  # noqa: N815
    protoPayload: Raw = Raw()  # noqa: N815
    operation: Raw = Raw()
    sourceLocation: Raw = Raw()  # noqa: N815
    split: Raw = Raw()
    errorGroups: Raw = Raw()  # noqa: N815


_decode = msgspec.json.Decoder(_LogEntry).decode
_ROW = dict.fromkeys(HTTP_REQUESTS.column_names)  # copied, then filled: cheaper than a 32-key literal


def outcome(message: Message, data: bytes) -> Outcome | None:
    """The outcome of a LogEntry in the common shape, or None for the general path to decide."""
    try:
        entry = _decode(data)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):  # ValidationError included
        return None
    if entry.protoPayload:
        return None  # App Engine's reader and the audit-log trap need the general path
    if (entry.operation or entry.sourceLocation or entry.split or entry.errorGroups) and not _read_by_orjson(entry):
        return None
    if (
        entry.logName is UNSET
        and not entry.resource
        and entry.timestamp is UNSET
        and entry.receiveTimestamp is UNSET
        and entry.severity is UNSET
        and entry.insertId is UNSET
        and entry.httpRequest is UNSET
        and entry.textPayload is UNSET
        and entry.jsonPayload is UNSET
    ):
        return None  # not a LogEntry: the general path says why
    resource = _resource_columns(entry.resource) if entry.resource else _NO_RESOURCE
    labels = _labels_column(entry.labels) if entry.labels else None
    if resource is None or labels is _INVALID:
        return None
    publish_time = message.publish_time
    time = (
        _timestamp(entry.timestamp)
        or _timestamp(entry.receiveTimestamp)
        or timestamps.normalize(publish_time)
        or timestamps.now()
    )
    name = entry.logName
    log_id = short_log_id(name) if name else None
    row = _ROW.copy()
    try:
        if not _request_columns(entry, row):
            return Outcome("other", message, data, None, None, None, log_id, time)
    except BadFieldError:  # the general path builds the error outcome
        return None
    row["timestamp"] = time
    row["receive_timestamp"] = _timestamp(entry.receiveTimestamp)
    if publish_time is not None:
        row["publish_time"] = timestamps.normalize(publish_time)
    row["insert_id"] = v if (v := entry.insertId) and v != "-" else None
    row["message_id"] = message.message_id
    row["log_name"] = name = name if name and name != "-" else None
    row["log_id"] = log_id
    row["resource_type"], project, row["resource_labels"] = resource
    if project is None and name is not None and name.startswith("projects/"):
        project = name.split("/", 2)[1] or None
    row["project_id"] = project
    row["severity"] = v if (v := entry.severity) and v != "-" else None
    row["trace"] = v if (v := entry.trace) and v != "-" else None
    row["span_id"] = v if (v := entry.spanId) and v != "-" else None
    row["labels"] = labels
    row.update(user_agent.columns(row["user_agent"]))
    return Outcome("http", message, data, row, None, None, log_id, time)


_NO_RESOURCE: tuple[str | None, str | None, str | None] = (None, None, None)
_INVALID = "invalid"  # a labels object not of strings: not the common shape


def _resource_columns(raw: Raw) -> tuple[str | None, str | None, str | None] | None:
    """resource_type, the project_id label and resource_labels of a `resource`; None when it
    is not an object of a type string and string labels."""
    key = bytes(raw)
    columns = _RESOURCES.get(key)
    if columns is None:
        try:
            resource = _decode_resource(key)
        except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
            return None
        labels = resource.labels if resource else None
        columns = (
            v if resource and (v := resource.type) and v != "-" else None,
            v if labels and (v := labels.get("project_id")) and v != "-" else None,
            orjson.dumps(labels).decode() if labels else None,
        )
        if len(_RESOURCES) >= _CACHE_SIZE:
            _RESOURCES.clear()
        _RESOURCES[key] = columns
    return columns


def _labels_column(raw: Raw) -> str | None:
    """The `labels` column of an entry's labels; _INVALID when they are not strings."""
    key = bytes(raw)
    try:
        return _LABELS[key]
    except KeyError:
        pass
    try:
        labels = _decode_labels(key)
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return _INVALID
    column = orjson.dumps(labels).decode() if labels else None
    if len(_LABELS) >= _CACHE_SIZE:
        _LABELS.clear()
    _LABELS[key] = column
    return column


def _read_by_orjson(entry: _LogEntry) -> bool:
    """Whether orjson takes the raw JSON that msgspec only skipped (orjson refuses numbers beyond
    a double's range, msgspec's skipping does not). Raw long enough to nest ~1023 levels is read
    one level down, as it sits in the message, since orjson's depth limit counts from the top."""
    for raw in (entry.operation, entry.sourceLocation, entry.split, entry.errorGroups):
        try:
            if len(raw) >= 2000:
                orjson.loads(b"[" + bytes(raw) + b"]")
            elif raw:
                orjson.loads(memoryview(raw))
        except orjson.JSONDecodeError:
            return False
    return True


def _request_columns(entry: _LogEntry, row: dict[str, Any]) -> bool:
    """Fills the request columns of `row` as functions.formats.find and complete would; False
    when no format reads a request."""
    http = entry.httpRequest
    if http and (http.requestUrl is not UNSET or http.requestMethod is not UNSET or http.status is not UNSET):
        row["source"] = "httpRequest"
        row["method"] = v if (v := http.requestMethod) and v != "-" else None
        row["url"] = url = v if (v := http.requestUrl) and v != "-" else None
        row["scheme"], row["host"], row["path"], row["query"] = split_url(url)
        row["status"] = n if type(n := http.status) is int else None
        if v := http.requestSize:
            row["request_size"] = int(v) if v.isdigit() and len(v) < 19 and v.isascii() else _count("requestSize", v)
        if v := http.responseSize:
            row["response_size"] = int(v) if v.isdigit() and len(v) < 19 and v.isascii() else _count("responseSize", v)
        if (v := http.latency) is not None:  # fields.duration_seconds, "0.012345s" first (inline: hot)
            number = v[:-1]
            if v[-1:] == "s" and number.replace(".", "", 1).isdigit() and number.isascii():
                seconds = float(number)
                row["latency_seconds"] = seconds if seconds < math.inf else None
            else:
                row["latency_seconds"] = duration_seconds(v)
        row["user_agent"] = v if (v := http.userAgent) and v != "-" else None
        if v := http.remoteIp:
            row["remote_ip"] = ip_without_port(v)
        if v := http.serverIp:
            row["server_ip"] = ip_without_port(v)
        row["referer"] = v if (v := http.referer) and v != "-" else None
        row["protocol"] = v if (v := http.protocol) and v != "-" else None
        row["cache_hit"] = http.cacheHit
        row["cache_lookup"] = http.cacheLookup
        return True
    # Every other format reads the text or the JSON payload: the general chain, on those alone.
    fields: dict[str, Any] = {}
    if entry.textPayload is not UNSET:
        fields["textPayload"] = entry.textPayload
    if entry.jsonPayload is not UNSET:
        fields["jsonPayload"] = entry.jsonPayload
    found = formats.find(fields) if fields else None
    if found is None:
        return False
    fill(row, found)
    return True


def _count(name: str, value: str) -> int | None:
    return to_int(f"httpRequest.{name}", value)


def _timestamp(value: str | None | UnsetType) -> str | None:
    """timestamps.normalize, with Cloud Logging's own form (nanoseconds, Z) taken first."""
    if (
        type(value) is str
        and len(value) == 30
        and value[29] == "Z"
        and value[19] == "."
        and value[20:29].isdigit()
        and value.isascii()
        and timestamps.canonical_second(value[:19])
    ):
        return value[:26] + "Z"
    return timestamps.normalize(value) if value else None
