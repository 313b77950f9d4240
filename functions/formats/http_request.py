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

from typing import Any

from functions.fields import BadFieldError, duration_seconds, ip_without_port, to_bool, to_int, to_str
from functions.request import RequestColumns, request_columns


def is_request(value: Any) -> bool:
    """An httpRequest with none of these keys says nothing about a request (`"httpRequest": {}`)."""
    return isinstance(value, dict) and ("requestUrl" in value or "requestMethod" in value or "status" in value)


def parse(http: Any, source: str = "httpRequest") -> RequestColumns | None:
    if http is None:
        return None
    if not isinstance(http, dict):
        raise BadFieldError("httpRequest", http, "an object")
    if not is_request(http):
        return None
    get = http.get
    return request_columns(
        source=source,
        method=to_str("httpRequest.requestMethod", get("requestMethod")),
        url=to_str("httpRequest.requestUrl", get("requestUrl")),
        status=to_int("httpRequest.status", get("status")),
        request_size=to_int("httpRequest.requestSize", get("requestSize")),
        response_size=to_int("httpRequest.responseSize", get("responseSize")),
        latency_seconds=duration_seconds(get("latency")),
        user_agent=to_str("httpRequest.userAgent", get("userAgent")),
        remote_ip=ip_without_port(to_str("httpRequest.remoteIp", get("remoteIp"))),
        server_ip=ip_without_port(to_str("httpRequest.serverIp", get("serverIp"))),
        referer=to_str("httpRequest.referer", get("referer")),
        protocol=to_str("httpRequest.protocol", get("protocol")),
        cache_hit=to_bool("httpRequest.cacheHit", get("cacheHit")),
        cache_lookup=to_bool("httpRequest.cacheLookup", get("cacheLookup")),
    )
