"""Envoy and Istio access records written as JSON, which Cloud Logging parses into jsonPayload.

Envoy writes a JSON record per request when its access log has a `json_format` dictionary
(envoyproxy.io/docs/envoy/latest/configuration/observability/access_log/usage, "Format
dictionaries"). Two key sets are common, both read here:

* Istio's (`meshConfig.accessLogEncoding: JSON`, istio.io/latest/docs/tasks/observability/logs/
  access-log/): snake_case names of the command operators, `response_code`, `duration`,
  `authority`, `x_forwarded_for`, `user_agent`, `upstream_host`, `downstream_remote_address`...
* Envoy Gateway's default JSON (gateway.envoyproxy.io, proxy observability): header names as
  keys, `:authority`, `x-envoy-origin-path`, `x-forwarded-for`, `user-agent`, with the same
  operator names for the rest.

Numbers may be JSON numbers or strings; DURATION is milliseconds; `response_code` 0 means no
response was sent. A record counts as a request when it has `response_code` and a method,
path or authority.
"""

from __future__ import annotations

from typing import Any

from functions.fields import first_forwarded, host_without_port, ip_without_port, number_seconds, to_int, to_str
from functions.formats.example import json_payload
from functions.request import Fields

READS = "jsonPayload"

EXAMPLES = (
    json_payload("istio-json", {
        "start_time": "2026-11-20T09:15:02.409Z", "method": "GET", "path": "/status/418?x=1", "protocol": "HTTP/1.1",
        "response_code": 418, "response_flags": "-", "response_code_details": "via_upstream",
        "connection_termination_details": None, "upstream_transport_failure_reason": None, "bytes_received": 0,
        "bytes_sent": 135, "duration": 4, "upstream_service_time": "4", "x_forwarded_for": None,
        "user_agent": "curl/8.5.0", "request_id": "5f1e0c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "authority": "httpbin:8000",
        "upstream_host": "10.44.1.27:80", "upstream_cluster": "outbound|8000||httpbin.foo.svc.cluster.local",
        "upstream_local_address": "10.44.1.23:37652", "downstream_local_address": "10.0.45.184:8000",
        "downstream_remote_address": "10.44.1.23:46520", "requested_server_name": None, "route_name": "default",
    }, {"source": "envoy", "method": "GET", "url": "/status/418?x=1", "path": "/status/418", "query": "x=1",
        "host": "httpbin", "status": 418, "request_size": 0, "response_size": 135, "latency_seconds": 0.004,
        "user_agent": "curl/8.5.0", "remote_ip": "10.44.1.23", "server_ip": "10.44.1.27", "protocol": "HTTP/1.1"}),
    json_payload("envoy-gateway-json", {
        "start_time": "2026-11-20T09:15:02.123Z", "method": "POST", "x-envoy-origin-path": "/api/v1/orders",
        "protocol": "HTTP/2", "response_code": "201", "response_flags": "-", "bytes_received": "512",
        "bytes_sent": "48", "duration": "23", "x-envoy-upstream-service-time": "21",
        "x-forwarded-for": "203.0.113.9, 10.0.0.2", "user-agent": "okhttp/4.12.0", "x-request-id": "a1b2",
        ":authority": "[2001:db8::1]:443", "upstream_host": "10.4.0.12:8080", "downstream_remote_address": "-",
    }, {"source": "envoy", "method": "POST", "path": "/api/v1/orders", "host": "2001:db8::1", "status": 201,
        "request_size": 512, "response_size": 48, "latency_seconds": 0.023, "user_agent": "okhttp/4.12.0",
        "remote_ip": "203.0.113.9", "server_ip": "10.4.0.12"}),
    json_payload("reset-before-response", {
        "start_time": "2026-11-20T09:15:02.123Z", "method": None, "path": None, "protocol": None,
        "response_code": 0, "response_flags": "UF", "bytes_received": 0, "bytes_sent": 0, "duration": 1,
        "authority": None, "upstream_host": "10.4.0.12:8080",
    }, {"source": "envoy", "status": None, "method": None, "url": None}),
    json_payload("app-record-with-response-code-only", {"level": "info", "response_code": 200}, None),
)  # fmt: skip


def parse(record: Any, entry: Any = None) -> Fields | None:
    if not isinstance(record, dict) or "response_code" not in record:
        return None
    get = record.get
    path_key = "path" if "path" in record else "x-envoy-origin-path"
    authority_key = "authority" if "authority" in record else ":authority"
    if path_key not in record and authority_key not in record and "method" not in record:
        return None
    forwarded_key = "x_forwarded_for" if "x_forwarded_for" in record else "x-forwarded-for"
    remote = to_str("downstream_remote_address", get("downstream_remote_address"))
    if remote is None:
        remote = first_forwarded(to_str(forwarded_key, get(forwarded_key)))
    agent_key = "user_agent" if "user_agent" in record else "user-agent"
    return {
        "source": "envoy",
        "method": to_str("method", get("method")),
        "url": to_str(path_key, get(path_key)),
        "host": host_without_port(to_str(authority_key, get(authority_key))),
        "status": to_int("response_code", get("response_code")) or None,
        "request_size": to_int("bytes_received", get("bytes_received")),
        "response_size": to_int("bytes_sent", get("bytes_sent")),
        "latency_seconds": number_seconds(to_str("duration", get("duration")), 0.001),
        "user_agent": to_str(agent_key, get(agent_key)),
        "remote_ip": ip_without_port(remote),
        "server_ip": ip_without_port(to_str("upstream_host", get("upstream_host"))),
        "protocol": to_str("protocol", get("protocol")),
    }
