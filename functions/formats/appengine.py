"""App Engine request logs: `protoPayload` of type google.appengine.logging.v1.RequestLog.

The request lives in the proto payload while `httpRequest` may hold only `status`. Fields:
cloud.google.com/appengine/docs/admin-api/reference/rest/v1/RequestLog (the logging
RequestLog has the same names); logName `.../logs/appengine.googleapis.com%2Frequest_log`.
"""

from __future__ import annotations

from typing import Any

from functions.fields import BadFieldError, duration_seconds, host_without_port, ip_without_port, to_int, to_str
from functions.formats.example import Example
from functions.request import Fields

READS = "protoPayload"
REQUEST_LOG_TYPE = "type.googleapis.com/google.appengine.logging.v1.RequestLog"

EXAMPLES = (
    Example(
        "request-log",
        {"httpRequest": {"status": 302}, "protoPayload": {
            "@type": REQUEST_LOG_TYPE, "appId": "e~blog-prod-123", "versionId": "20261120t091500",
            "ip": "192.0.2.44", "latency": "0.023104s", "method": "GET", "resource": "/login?next=%2Fadmin",
            "httpVersion": "HTTP/1.1", "status": 302, "responseSize": "215", "userAgent": "curl/8.5.0",
            "host": "blog-prod-123.ew.r.appspot.com", "referrer": "-", "finished": True,
        }},
        {"source": "appengine", "method": "GET", "url": "/login?next=%2Fadmin", "path": "/login",
         "query": "next=%2Fadmin", "host": "blog-prod-123.ew.r.appspot.com", "status": 302, "response_size": 215,
         "latency_seconds": 0.023104, "remote_ip": "192.0.2.44", "protocol": "HTTP/1.1", "referer": None},
        resource_type="gae_app",
    ),
    Example(
        "status-from-http-request",
        {"httpRequest": {"status": 503}, "protoPayload": {
            "@type": REQUEST_LOG_TYPE, "method": "POST", "resource": "/task", "ip": "[2001:db8::44]:5000"}},
        {"source": "appengine", "status": 503, "remote_ip": "2001:db8::44"},
        resource_type="gae_app",
    ),
    Example(
        "untyped-request-log",  # some exporters drop @type: the shape is enough
        {"protoPayload": {"method": "GET", "resource": "/", "status": 200}},
        {"source": "appengine", "status": 200, "path": "/"},
        resource_type="gae_app",
    ),
    Example(
        "audit-log-is-no-request",  # IAP AuthorizeUser: protoPayload.request.httpRequest is a checked call
        {"protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName": "iap.googleapis.com",
            "methodName": "AuthorizeUser", "request": {"httpRequest": {"url": "https://admin.example.com/"}},
            "status": {}}},
        None,
        resource_type="gce_backend_service",
    ),
    Example("other-proto-payload-is-no-request", {"protoPayload": {"method": "GET", "resource": {"type": "x"},
            "status": 200}}, None),
)  # fmt: skip


def is_request_log(payload: Any) -> bool:
    """Typed RequestLogs, and untyped payloads with its shape (some exporters drop @type)."""
    if not isinstance(payload, dict):
        return False
    kind = payload.get("@type")
    if kind is not None:
        return bool(kind == REQUEST_LOG_TYPE)
    return isinstance(payload.get("method"), str) and isinstance(payload.get("resource"), str) and "status" in payload


def parse(payload: Any, entry: dict[str, Any]) -> Fields | None:
    if not is_request_log(payload):
        return None
    http = entry.get("httpRequest")
    if http is not None and not isinstance(http, dict):
        raise BadFieldError("httpRequest", http, "an object")
    get = payload.get
    status = get("status")
    if status is None and http:
        status = http.get("status")
    return {
        "source": "appengine",
        "method": to_str("protoPayload.method", get("method")),
        "url": to_str("protoPayload.resource", get("resource")),
        "host": host_without_port(to_str("protoPayload.host", get("host"))),
        "status": to_int("protoPayload.status", status),
        "response_size": to_int("protoPayload.responseSize", get("responseSize")),
        "latency_seconds": duration_seconds(get("latency")),
        "user_agent": to_str("protoPayload.userAgent", get("userAgent")),
        "remote_ip": ip_without_port(to_str("protoPayload.ip", get("ip"))),
        "referer": to_str("protoPayload.referrer", get("referrer")),
        "protocol": to_str("protoPayload.httpVersion", get("httpVersion")),
    }
