"""Envoy's default access log line, and Istio's longer default (which adds response
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
else the first X-Forwarded-For address; the server is UPSTREAM_HOST.
"""

from __future__ import annotations

import re
from typing import Any

from functions import timestamps
from functions.fields import (
    first_forwarded,
    host_without_port,
    ip_without_port,
    number_seconds,
    quoted,
    request_line,
    to_int,
    unescape,
)
from functions.formats.example import line
from functions.request import Fields

READS = "textPayload"

EXAMPLES = (
    line("envoy-default",
         '[2026-11-20T09:15:02.123Z] "GET /api/v1/items?page=2 HTTP/1.1" 200 - 0 1432 12 10 "203.0.113.9" '
         '"curl/8.5.0" "8e4b7c0a-1d2e-4f60-9a8b-7c6d5e4f3a2b" "shop.example.com" "10.4.0.12:8080"',
         {"source": "envoy", "method": "GET", "host": "shop.example.com", "path": "/api/v1/items", "query": "page=2",
          "status": 200, "request_size": 0, "response_size": 1432, "latency_seconds": 0.012,
          "remote_ip": "203.0.113.9", "server_ip": "10.4.0.12", "user_agent": "curl/8.5.0", "protocol": "HTTP/1.1"}),
    line("istio-default",
         '[2026-11-20T09:15:02.409Z] "GET /status/418 HTTP/1.1" 418 - via_upstream - "-" 0 135 4 4 "-" '
         '"curl/8.5.0" "5f1e0c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b" "httpbin:8000" "10.44.1.27:80" '
         "outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default",
         {"source": "envoy", "host": "httpbin", "status": 418, "response_size": 135, "request_size": 0,
          "latency_seconds": 0.004, "remote_ip": "10.44.1.23", "server_ip": "10.44.1.27"}),
    line("ipv6-authority-and-upstream",
         '[2026-11-20T09:15:02.123Z] "GET / HTTP/2" 200 - 0 5 1 1 "2001:db8::9" "curl/8.5.0" "id" '
         '"[2001:db8::1]:8443" "[2001:db8::2]:8080"',
         {"host": "2001:db8::1", "remote_ip": "2001:db8::9", "server_ip": "2001:db8::2"}),
    line("reset-connection",  # no request reached the upstream: status 0 and dashes
         '[2026-11-20T09:15:02.123Z] "- - -" 0 UF 0 0 1 - "-" "-" "-" "-" "10.4.0.12:8080"',
         {"source": "envoy", "method": None, "status": None, "remote_ip": None, "host": None}),
)  # fmt: skip

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


def parse(text: Any, entry: Any = None) -> Fields | None:
    return parse_line(text.rstrip("\r\n")) if isinstance(text, str) else None


def line_time(text: str) -> str | None:
    """The line's own START_TIME, in UTC."""
    m = _LINE.match(text)
    return timestamps.normalize(m["time"]) if m is not None else None


def parse_line(text: str) -> Fields | None:
    m = _LINE.match(text)
    if m is None:
        return None
    method, url, protocol = request_line(m["request"])
    remote = m["downstream_remote"]
    if remote is None or remote == "-":
        remote = first_forwarded(m["xff"])
    agent = m["agent"]
    return {
        "source": "envoy",
        "method": method,
        "url": url,
        "host": host_without_port(m["authority"] if m["authority"] != "-" else None),
        "status": to_int("status", m["status"]) or None,  # 0: no response was sent
        "request_size": to_int("bytes_received", m["received"]),
        "response_size": to_int("bytes_sent", m["sent"]),
        "latency_seconds": number_seconds(m["duration"] if m["duration"] != "-" else None, 0.001),
        "user_agent": unescape(agent) if agent not in ("", "-") else None,
        "remote_ip": ip_without_port(remote),
        "server_ip": ip_without_port(m["upstream_host"]),
        "protocol": protocol,
    }
