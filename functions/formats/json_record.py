"""JSON access records in `jsonPayload`.

Two shapes are read:

* `httpRequest`-shaped objects, either nested (`{"httpRequest": {...}, "message": ...}`, the
  structured-logging convention of cloud.google.com/logging/docs/structured-logging) or the
  payload itself (`{"requestMethod": "GET", "requestUrl": "/", "status": 200}`);
* nginx `log_format ... escape=json` records using nginx variable names
  (nginx.org/en/docs/http/ngx_http_log_module.html#log_format), e.g. `remote_addr`,
  `request`, `status`, `body_bytes_sent`, `request_time`, `http_user_agent`, `host`.

A record needs a request (`request`, or `request_method` with `request_uri`) and a
`status` to count: application logs that merely mention a status are not requests.
"""

from __future__ import annotations

from typing import Any

from functions.fields import host_without_port, ip_without_port, number_seconds, request_line, to_int, to_str
from functions.formats import http_request
from functions.formats.example import json_payload
from functions.request import Fields

READS = "jsonPayload"

EXAMPLES = (
    json_payload("nginx-escape-json", {
        "time_iso8601": "2026-11-20T09:15:02+00:00", "remote_addr": "198.51.100.23",
        "request": "GET /tags/python?page=3 HTTP/1.1", "status": "200", "body_bytes_sent": "5120",
        "request_time": "0.003", "http_referer": "", "host": "blog.example.com", "scheme": "https",
        "http_user_agent": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "request_length": "87",
    }, {"source": "json", "method": "GET", "url": "/tags/python?page=3", "scheme": "https",
        "host": "blog.example.com", "path": "/tags/python", "query": "page=3", "status": 200,
        "response_size": 5120, "request_size": 87, "latency_seconds": 0.003, "referer": None,
        "remote_ip": "198.51.100.23", "protocol": "HTTP/1.1"}),
    json_payload("nginx-method-and-uri", {
        "request_method": "PUT", "request_uri": "/api/v1/posts/7", "status": 409, "remote_addr": "192.0.2.8",
        "http_host": "[2001:db8::1]:8080",
    }, {"source": "json", "method": "PUT", "path": "/api/v1/posts/7", "status": 409, "remote_ip": "192.0.2.8",
        "host": "2001:db8::1"}),
    json_payload("nginx-bracketed-ipv6-host", {"request": "GET / HTTP/1.1", "status": 200, "host": "[2001:db8::1]"},
                 {"host": "2001:db8::1", "path": "/"}),
    json_payload("structured-logging-http-request", {
        "message": "handled", "httpRequest": {"requestMethod": "DELETE", "requestUrl": "/api/x/1", "status": 204},
    }, {"source": "json", "method": "DELETE", "status": 204, "host": None, "path": "/api/x/1"}),
    json_payload("http-request-shaped-payload", {"requestMethod": "GET", "requestUrl": "https://a.example/", "status": 200},
                 {"source": "json", "host": "a.example", "status": 200}),
    json_payload("app-record-with-a-status-is-no-request", {"level": "info", "status": 200}, None),
    json_payload("app-record-is-no-request", {"message": "user logged in", "status": "ok"}, None),
    json_payload("method-without-uri-is-no-request", {"status": 200, "request_method": "GET"}, None),
)  # fmt: skip


def parse(payload: Any, entry: Any = None) -> Fields | None:
    if not isinstance(payload, dict):
        return None
    nested = payload.get("httpRequest")
    if http_request.is_request(nested):
        return http_request.parse(nested, source="json")
    if "requestMethod" in payload or "requestUrl" in payload:  # a bare `status` is not enough here
        return http_request.parse(payload, source="json")
    return _nginx(payload) if "status" in payload else None


def _nginx(record: dict[str, Any]) -> Fields | None:
    method = to_str("request_method", record.get("request_method"))
    url = to_str("request_uri", record.get("request_uri"))
    protocol = to_str("server_protocol", record.get("server_protocol"))
    request = to_str("request", record.get("request"))
    if request is not None:
        method, url, protocol = request_line(request)
    elif method is None or url is None:
        return None
    host = to_str("host", record.get("host")) or to_str("http_host", record.get("http_host"))
    return {
        "source": "json",
        "method": method,
        "url": url,
        "scheme": to_str("scheme", record.get("scheme")),
        "host": host_without_port(host),
        "status": to_int("status", record.get("status")),
        "request_size": to_int("request_length", record.get("request_length")),
        "response_size": to_int("body_bytes_sent", record.get("body_bytes_sent")),
        "latency_seconds": number_seconds(to_str("request_time", record.get("request_time"))),
        "user_agent": to_str("http_user_agent", record.get("http_user_agent")),
        "remote_ip": ip_without_port(to_str("remote_addr", record.get("remote_addr"))),
        "referer": to_str("http_referer", record.get("http_referer")),
        "protocol": protocol,
    }
