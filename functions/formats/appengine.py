"""App Engine request logs: `protoPayload` of type google.appengine.logging.v1.RequestLog.

The request lives in the proto payload while `httpRequest` may hold only `status`.
Example (fields from cloud.google.com/appengine/docs/admin-api/reference/rest/v1/RequestLog):

    {"@type": "type.googleapis.com/google.appengine.logging.v1.RequestLog",
     "method": "GET", "resource": "/_ah/health?x=1", "httpVersion": "HTTP/1.1",
     "status": 200, "responseSize": "3013", "latency": "0.004229s", "ip": "203.0.113.1",
     "host": "my-app.appspot.com", "userAgent": "GoogleHC/1.0", "referrer": "-"}
"""

from __future__ import annotations

from typing import Any

from functions.fields import BadFieldError, duration_seconds, ip_without_port, to_int, to_str
from functions.request import RequestColumns, request_columns

REQUEST_LOG_TYPE = "type.googleapis.com/google.appengine.logging.v1.RequestLog"


def is_request_log(payload: Any) -> bool:
    """Typed RequestLogs, and untyped payloads with its shape (some exporters drop @type)."""
    if not isinstance(payload, dict):
        return False
    kind = payload.get("@type")
    if kind is not None:
        return bool(kind == REQUEST_LOG_TYPE)
    return isinstance(payload.get("method"), str) and isinstance(payload.get("resource"), str) and "status" in payload


def parse(payload: Any, http: Any) -> RequestColumns | None:
    if not is_request_log(payload):
        return None
    if http is not None and not isinstance(http, dict):
        raise BadFieldError("httpRequest", http, "an object")
    http = http or {}
    get = payload.get
    status = get("status")
    return request_columns(
        source="appengine",
        method=to_str("protoPayload.method", get("method")),
        url=to_str("protoPayload.resource", get("resource")),
        host=to_str("protoPayload.host", get("host")),
        status=to_int("protoPayload.status", status if status is not None else http.get("status")),
        response_size=to_int("protoPayload.responseSize", get("responseSize")),
        latency_seconds=duration_seconds(get("latency")),
        user_agent=to_str("protoPayload.userAgent", get("userAgent")),
        remote_ip=ip_without_port(to_str("protoPayload.ip", get("ip"))),
        referer=to_str("protoPayload.referrer", get("referrer")),
        protocol=to_str("protoPayload.httpVersion", get("httpVersion")),
    )
