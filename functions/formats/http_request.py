"""The LogEntry `httpRequest` field (google.logging.type.HttpRequest as proto3 JSON).

Written by load balancers, Cloud CDN, Cloud Run, Cloud Functions gen2, App Engine and the
Ops Agent. Fields: cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#HttpRequest.
Zero values are omitted by proto3 JSON, sizes are int64 so they arrive as strings, and
`remoteIp`/`serverIp` may carry a port and may be IPv6 (`[2001:db8::17]:443`).
"""

from __future__ import annotations

from typing import Any

from functions.fields import INT64_MAX, BadFieldError, duration_seconds, ip_without_port, to_bool, to_int, to_str
from functions.formats.example import Example
from functions.request import Fields

READS = "httpRequest"

EXAMPLES = (
    Example(
        "load-balancer",  # cloud.google.com/load-balancing/docs/https/https-logging-monitoring
        {"httpRequest": {
            "requestMethod": "GET", "requestUrl": "https://blog.example.com/posts/hello?utm_source=feed",
            "requestSize": "312", "status": 200, "responseSize": "26020", "userAgent": "Go-http-client/1.1",
            "remoteIp": "203.0.113.7:60102", "serverIp": "10.8.0.4", "latency": "0.012345s", "protocol": "HTTP/1.1",
        }},
        {"source": "httpRequest", "method": "GET", "scheme": "https", "host": "blog.example.com",
         "path": "/posts/hello", "query": "utm_source=feed", "status": 200, "request_size": 312,
         "response_size": 26020, "latency_seconds": 0.012345, "remote_ip": "203.0.113.7", "server_ip": "10.8.0.4",
         "protocol": "HTTP/1.1", "cache_hit": None},
        resource_type="http_load_balancer",
    ),
    Example(
        "cdn-hit",  # cloud.google.com/cdn/docs/logging: no serverIp when served from cache, latency "0s"
        {"httpRequest": {
            "requestMethod": "GET", "requestUrl": "https://static.example.com/img/logo.png", "status": 200,
            "responseSize": "10589", "remoteIp": "2001:db8::4", "cacheLookup": True, "cacheHit": True, "latency": "0s",
        }},
        {"cache_hit": True, "cache_lookup": True, "latency_seconds": 0.0, "remote_ip": "2001:db8::4", "server_ip": None},
        resource_type="http_load_balancer",
    ),
    Example(
        "regional-lb-ipv6-with-port",
        {"httpRequest": {"requestMethod": "GET", "requestUrl": "https://[2001:db8::5]:8443/x", "status": 204,
                         "remoteIp": "[2001:db8::17]:443"}},
        {"remote_ip": "2001:db8::17", "host": "2001:db8::5", "path": "/x", "status": 204},
        resource_type="http_external_regional_lb_rule",
    ),
    Example(
        "cloud-run",  # cloud.google.com/run/docs/logging#request-logs
        {"httpRequest": {
            "requestMethod": "POST", "requestUrl": "https://api-abc-ew.a.run.app/v1/comments", "status": 201,
            "referer": "https://blog.example.com/", "latency": "0.187654321s", "responseSize": "402",
        }},
        {"method": "POST", "status": 201, "referer": "https://blog.example.com/", "latency_seconds": 0.187654321},
        resource_type="cloud_run_revision",
    ),
    Example("status-only", {"httpRequest": {"status": 404}}, {"status": 404, "method": None, "url": None}),
    Example("empty-is-no-request", {"httpRequest": {}}, None),
    Example(
        "strings-and-floats-are-numbers",
        {"httpRequest": {"status": "503", "responseSize": 2326.0, "requestSize": " 7 ", "latency": " 123 s "}},
        {"status": 503, "response_size": 2326, "request_size": 7, "latency_seconds": 123.0},
    ),
    Example(
        "duration-object-and-unknown-unit",
        {"httpRequest": {"status": 200, "latency": {"seconds": 1, "nanos": 344200000}, "requestUrl": "/"}},
        {"latency_seconds": 1.3442, "path": "/"},
    ),
    Example("other-duration-units-are-unknown", {"httpRequest": {"status": 200, "latency": "1min"}},
            {"latency_seconds": None}),
    Example(
        "unrepresentable-values-are-null",  # the value rule: the row is kept, the column NULL
        {"httpRequest": {"status": 200, "responseSize": "99999999999999999999", "requestSize": "-1",
                         "latency": {"seconds": "-5"}, "remoteIp": "gce-internal-ip"}},
        {"status": 200, "response_size": None, "request_size": None, "latency_seconds": None, "remote_ip": None},
    ),
)  # fmt: skip


def is_request(value: Any) -> bool:
    """An httpRequest with none of these keys says nothing about a request (`"httpRequest": {}`)."""
    return type(value) is dict and ("requestUrl" in value or "requestMethod" in value or "status" in value)


def parse(http: Any, entry: Any = None, source: str = "httpRequest") -> Fields | None:
    if type(http) is not dict:
        raise BadFieldError("httpRequest", http, "an object")
    if not is_request(http):
        return None
    get = http.get  # every field may be absent: proto3 JSON omits zero values
    # Each value's commonest form is taken as it is; anything else goes through the general
    # reader in functions/fields.py (this runs for most rows, so it avoids the calls).
    return {
        "source": source,
        "method": v if _plain(v := get("requestMethod")) else to_str("httpRequest.requestMethod", v),
        "url": v if _plain(v := get("requestUrl")) else to_str("httpRequest.requestUrl", v),
        "status": v if (v := get("status")) is None or _count(v) else to_int("httpRequest.status", v),
        "request_size": v if (v := get("requestSize")) is None or _count(v) else to_int("httpRequest.requestSize", v),
        "response_size": v
        if (v := get("responseSize")) is None or _count(v)
        else to_int("httpRequest.responseSize", v),
        "latency_seconds": None if (v := get("latency")) is None else duration_seconds(v),
        "user_agent": v if _plain(v := get("userAgent")) else to_str("httpRequest.userAgent", v),
        "remote_ip": None if (v := get("remoteIp")) is None else ip_without_port(to_str("httpRequest.remoteIp", v)),
        "server_ip": None if (v := get("serverIp")) is None else ip_without_port(to_str("httpRequest.serverIp", v)),
        "referer": v if _plain(v := get("referer")) else to_str("httpRequest.referer", v),
        "protocol": v if _plain(v := get("protocol")) else to_str("httpRequest.protocol", v),
        "cache_hit": v if (v := get("cacheHit")) is None or type(v) is bool else to_bool("httpRequest.cacheHit", v),
        "cache_lookup": v
        if (v := get("cacheLookup")) is None or type(v) is bool
        else to_bool("httpRequest.cacheLookup", v),
    }
    # cacheFillBytes and cacheValidatedWithOriginServer have no column; they stay in the archive.


_NO_VALUE = frozenset(("", "-"))


def _plain(value: Any) -> bool:
    """None or a text value to keep as it is ("" and "-" mean no value: to_str says so)."""
    return value is None or (type(value) is str and value not in _NO_VALUE)


def _count(value: Any) -> bool:
    return type(value) is int and 0 <= value <= INT64_MAX
