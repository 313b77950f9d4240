"""Envoy's default access log format, and Istio's longer default (which adds response
details, upstream cluster and the downstream addresses).

    Envoy  [2024-05-01T10:00:00.123Z] "GET /api/v1/items?page=2 HTTP/1.1" 200 - 0 1432 12 10
           "203.0.113.9" "curl/8.5.0" "8e4b7c0a-..." "shop.example.com" "10.4.0.12:8080"
    Istio  [2024-05-01T10:00:00.123Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4
           "-" "curl/8.5.0" "5f1e..." "httpbin:8000" "10.44.1.27:80"
           outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000
           10.44.1.23:46520 - default

Formats: envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage
("Default format string") and istio.io/latest/docs/tasks/observability/logs/access-log/.
DURATION is milliseconds. The client is DOWNSTREAM_REMOTE_ADDRESS when logged (Istio),
else the first X-Forwarded-For address.
"""

from __future__ import annotations

import re

from functions.fields import host_without_port, ip_without_port, number_seconds, quoted, request_line, to_int, unescape
from functions.request import RequestColumns, request_columns

_LINE = re.compile(
    r"\[(?P<time>\d{4}-\d{2}-\d{2}T[^\]]+)\] "
    + quoted("request")
    + r" (?P<status>\d{1,3}|-) (?P<flags>\S+)"
    + r"(?: (?P<details>\S+) (?P<termination>\S+) "
    + quoted("failure")
    + r")? (?P<received>\d+|-) (?P<sent>\d+|-) (?P<duration>\d+|-) (?P<upstream_time>\S+) "
    + " ".join(quoted(name) for name in ("xff", "agent", "request_id", "authority", "upstream_host"))
    + r"(?: (?P<cluster>\S+) (?P<upstream_local>\S+) (?P<downstream_local>\S+) (?P<downstream_remote>\S+)"
    + r" (?P<sni>\S+) (?P<route>\S+))?\s*\Z"
)


def parse(line: str) -> RequestColumns | None:
    m = _LINE.match(line)
    if m is None:
        return None
    method, url, protocol = request_line(m["request"])
    remote = m["downstream_remote"]
    if remote is None or remote == "-":
        remote = m["xff"].split(",", 1)[0].strip()
    agent = unescape(m["agent"]) if m["agent"] not in ("", "-") else None
    authority = m["authority"] if m["authority"] not in ("", "-") else None
    return request_columns(
        source="envoy",
        method=method,
        url=url,
        host=host_without_port(authority),
        status=to_int("status", m["status"]) or None,
        request_size=to_int("bytes_received", m["received"]),
        response_size=to_int("bytes_sent", m["sent"]),
        latency_seconds=number_seconds(m["duration"] if m["duration"] != "-" else None, 0.001),
        user_agent=agent,
        remote_ip=ip_without_port(remote),
        protocol=protocol,
    )
