"""The LogEntry `httpRequest` field (google.logging.type.HttpRequest as proto3 JSON).

Written by load balancers, Cloud CDN, Cloud Run, Cloud Functions gen2, App Engine and the
Ops Agent. Example (fields from the HttpRequest reference,
cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#HttpRequest):

    {"requestMethod": "GET", "requestUrl": "https://example.com/index.html?a=1",
     "requestSize": "512", "status": 200, "responseSize": "26020",
     "userAgent": "Go-http-client/1.1", "remoteIp": "203.0.113.7:60102",
     "serverIp": "10.8.0.4", "latency": "0.012s", "cacheLookup": true, "protocol": "HTTP/1.1"}

Zero values are omitted by proto3 JSON, sizes are int64 so they arrive as strings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from functions.fields import BadFieldError, duration_seconds, ip_without_port, to_bool, to_int, to_str
from functions.request import RequestColumns, complete


def is_request(value: Any) -> bool:
    """An httpRequest with none of these keys says nothing about a request (`"httpRequest": {}`)."""
    return isinstance(value, dict) and ("requestUrl" in value or "requestMethod" in value or "status" in value)


def _ip(field: str, value: Any) -> str | None:
    return ip_without_port(to_str(field, value))


def _duration(field: str, value: Any) -> float | None:
    return duration_seconds(value)


# HttpRequest field -> (column, reader, name in error messages). Fields not listed
# (cacheFillBytes, cacheValidatedWithOriginServer) have no column; they stay in the archive.
_FIELDS: dict[str, tuple[str, Callable[[str, Any], Any], str]] = {
    "requestMethod": ("method", to_str, "httpRequest.requestMethod"),
    "requestUrl": ("url", to_str, "httpRequest.requestUrl"),
    "status": ("status", to_int, "httpRequest.status"),
    "requestSize": ("request_size", to_int, "httpRequest.requestSize"),
    "responseSize": ("response_size", to_int, "httpRequest.responseSize"),
    "latency": ("latency_seconds", _duration, "httpRequest.latency"),
    "userAgent": ("user_agent", to_str, "httpRequest.userAgent"),
    "remoteIp": ("remote_ip", _ip, "httpRequest.remoteIp"),
    "serverIp": ("server_ip", _ip, "httpRequest.serverIp"),
    "referer": ("referer", to_str, "httpRequest.referer"),
    "protocol": ("protocol", to_str, "httpRequest.protocol"),
    "cacheHit": ("cache_hit", to_bool, "httpRequest.cacheHit"),
    "cacheLookup": ("cache_lookup", to_bool, "httpRequest.cacheLookup"),
}


def parse(http: Any, source: str = "httpRequest") -> RequestColumns | None:
    if http is None:
        return None
    if not isinstance(http, dict):
        raise BadFieldError("httpRequest", http, "an object")
    if not is_request(http):
        return None
    fields = {}
    for key, value in http.items():  # only the fields present: proto3 JSON omits zero values
        known = _FIELDS.get(key)
        if known is not None:
            column, read, name = known
            fields[column] = read(name, value)
    return complete(source, fields)
