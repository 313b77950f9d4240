"""JSON access records in `jsonPayload`.

Two shapes are read:

* `httpRequest`-shaped objects, either nested (`{"httpRequest": {...}, "message": ...}`, the
  structured-logging convention of cloud.google.com/logging/docs/structured-logging) or the
  payload itself (`{"requestMethod": "GET", "requestUrl": "/", "status": 200}`);
* nginx `log_format ... escape=json` records using nginx variable names
  (nginx.org/en/docs/http/ngx_http_log_module.html#log_format), e.g.

      {"time_iso8601": "2024-05-01T10:00:00+00:00", "remote_addr": "203.0.113.9",
       "request": "GET /feed.xml?x=1 HTTP/1.1", "status": "200", "body_bytes_sent": "5120",
       "request_time": "0.003", "http_referer": "", "http_user_agent": "curl/8.5.0",
       "host": "blog.example.com", "request_length": "87"}

A record needs a request (`request`, or `request_method` with `request_uri`) and a
`status` to count: application logs that merely mention a status are not requests.
"""

from __future__ import annotations

from typing import Any

from functions.fields import ip_without_port, number_seconds, request_line, to_int, to_str
from functions.formats import http_request
from functions.request import RequestColumns, request_columns


def parse(payload: Any) -> RequestColumns | None:
    if not isinstance(payload, dict):
        return None
    nested = payload.get("httpRequest")
    if http_request.is_request(nested):
        return http_request.parse(nested, source="json")
    if "requestMethod" in payload or "requestUrl" in payload:  # a bare `status` is not enough here
        return http_request.parse(payload, source="json")
    return _nginx(payload)


def _nginx(record: dict[str, Any]) -> RequestColumns | None:
    if "status" not in record:
        return None
    method = to_str("request_method", record.get("request_method"))
    url = to_str("request_uri", record.get("request_uri"))
    protocol = to_str("server_protocol", record.get("server_protocol"))
    request = to_str("request", record.get("request"))
    if request is not None:
        method, url, protocol = request_line(request)
    elif method is None or url is None:
        return None
    host = to_str("host", record.get("host")) or to_str("http_host", record.get("http_host"))
    columns = request_columns(
        source="json",
        method=method,
        url=url,
        host=host.rsplit(":", 1)[0] if host else None,
        status=to_int("status", record.get("status")),
        request_size=to_int("request_length", record.get("request_length")),
        response_size=to_int("body_bytes_sent", record.get("body_bytes_sent")),
        latency_seconds=number_seconds(to_str("request_time", record.get("request_time"))),
        user_agent=to_str("http_user_agent", record.get("http_user_agent")),
        remote_ip=ip_without_port(to_str("remote_addr", record.get("remote_addr"))),
        referer=to_str("http_referer", record.get("http_referer")),
        protocol=protocol,
    )
    if columns["scheme"] is None:
        columns["scheme"] = to_str("scheme", record.get("scheme"))
    return columns
