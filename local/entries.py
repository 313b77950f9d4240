"""Realistic LogEntries, written here from public documentation (each cites its source).

They are the shapes a Log Router sink publishes to Pub/Sub: proto3 JSON of
google.logging.v2.LogEntry (cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry).
The demo, the benchmarks and the tests build their traffic from them; access lines come from
the formats' own EXAMPLES (functions/formats/), so each format is written down once.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import orjson

from functions import formats
from functions.message import Message

PROJECT = "blog-prod-123"


def _entry(**fields: Any) -> dict[str, Any]:
    base = {
        "insertId": "1a2b3c4d5e6f",
        "timestamp": "2026-11-20T09:15:02.123456789Z",
        "receiveTimestamp": "2026-11-20T09:15:02.456789012Z",
        "severity": "INFO",
    }
    base.update(fields)
    return base


def load_balancer() -> dict[str, Any]:
    """Global external Application Load Balancer request log
    (cloud.google.com/load-balancing/docs/https/https-logging-monitoring#viewing_logs):
    resource http_load_balancer, logName .../logs/requests, sizes as int64 strings."""
    return _entry(
        logName=f"projects/{PROJECT}/logs/requests",
        resource={
            "type": "http_load_balancer",
            "labels": {
                "backend_service_name": "k8s1-blog-nginx-80",
                "forwarding_rule_name": "k8s2-fs-blog-ingress",
                "project_id": PROJECT,
                "target_proxy_name": "k8s2-ts-blog-ingress",
                "url_map_name": "k8s2-um-blog-ingress",
                "zone": "global",
            },
        },
        httpRequest={
            "requestMethod": "GET",
            "requestUrl": "https://blog.example.com/posts/hello-world?utm_source=feed",
            "requestSize": "312",
            "status": 200,
            "responseSize": "26020",
            "userAgent": "Go-http-client/1.1",
            "remoteIp": "203.0.113.7:60102",
            "serverIp": "10.8.0.4",
            "latency": "0.012345s",
            "protocol": "HTTP/1.1",
        },
        jsonPayload={
            "@type": "type.googleapis.com/google.cloud.loadbalancing.type.LoadBalancerLogEntry",
            "statusDetails": "response_sent_by_backend",
            "backendTargetProjectNumber": "projects/123456789012",
        },
        trace=f"projects/{PROJECT}/traces/4bf92f3577b34da6a3ce929d0e0e4736",
        spanId="00f067aa0ba902b7",
    )


def cdn_hit() -> dict[str, Any]:
    """Cloud CDN cache hit (cloud.google.com/cdn/docs/logging): cacheLookup and cacheHit
    set, latency "0s" possible, no serverIp because no backend was contacted."""
    entry = load_balancer()
    entry["httpRequest"] = {
        "requestMethod": "GET",
        "requestUrl": "https://static.example.com/img/logo.png",
        "requestSize": "98",
        "status": 200,
        "responseSize": "10589",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "remoteIp": "2001:db8::4",
        "cacheLookup": True,
        "cacheHit": True,
        "latency": "0s",
    }
    entry["jsonPayload"]["statusDetails"] = "response_from_cache"
    return entry


def regional_load_balancer() -> dict[str, Any]:
    """Regional external Application Load Balancer (cloud.google.com/load-balancing/docs/l7-internal/monitoring):
    resource http_external_regional_lb_rule, logName loadbalancing.googleapis.com%2Fexternal_regional_requests."""
    entry = load_balancer()
    entry["logName"] = f"projects/{PROJECT}/logs/loadbalancing.googleapis.com%2Fexternal_regional_requests"
    entry["resource"] = {
        "type": "http_external_regional_lb_rule",
        "labels": {"project_id": PROJECT, "region": "europe-west1", "backend_name": "blog-backend"},
    }
    entry["httpRequest"]["remoteIp"] = "[2001:db8::17]:443"
    return entry


def cloud_run() -> dict[str, Any]:
    """Cloud Run request log (cloud.google.com/run/docs/logging#request-logs):
    logName run.googleapis.com%2Frequests, resource cloud_run_revision."""
    return _entry(
        logName=f"projects/{PROJECT}/logs/run.googleapis.com%2Frequests",
        resource={
            "type": "cloud_run_revision",
            "labels": {
                "service_name": "comments-api",
                "revision_name": "comments-api-00042-xiz",
                "location": "europe-west1",
                "configuration_name": "comments-api",
                "project_id": PROJECT,
            },
        },
        httpRequest={
            "requestMethod": "POST",
            "requestUrl": "https://comments-api-abcdefghij-ew.a.run.app/v1/comments",
            "requestSize": "1284",
            "status": 201,
            "responseSize": "402",
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15",
            "remoteIp": "198.51.100.23",
            "serverIp": "216.239.32.53",
            "referer": "https://blog.example.com/posts/hello-world",
            "latency": "0.187654321s",
            "protocol": "HTTP/1.1",
        },
        labels={"instanceId": "00c61b117c"},
        trace=f"projects/{PROJECT}/traces/0af7651916cd43dd8448eb211c80319c",
    )


def app_engine() -> dict[str, Any]:
    """App Engine standard request log (cloud.google.com/appengine/docs/standard/writing-application-logs;
    RequestLog fields per cloud.google.com/appengine/docs/admin-api/reference/rest/v1/RequestLog):
    the request is in protoPayload; httpRequest holds only the status."""
    return _entry(
        logName=f"projects/{PROJECT}/logs/appengine.googleapis.com%2Frequest_log",
        resource={"type": "gae_app", "labels": {"module_id": "default", "version_id": "20261120t091500"}},
        httpRequest={"status": 302},
        protoPayload={
            "@type": "type.googleapis.com/google.appengine.logging.v1.RequestLog",
            "appId": f"e~{PROJECT}",
            "versionId": "20261120t091500",
            "requestId": "6734f1a600ff0c8a2f6e4d52b10001737e626c6f672d70726f642d313233",
            "ip": "192.0.2.44",
            "startTime": "2026-11-20T09:15:02.100000Z",
            "endTime": "2026-11-20T09:15:02.123000Z",
            "latency": "0.023104s",
            "method": "GET",
            "resource": "/login?next=%2Fadmin",
            "httpVersion": "HTTP/1.1",
            "status": 302,
            "responseSize": "215",
            "userAgent": "curl/8.5.0",
            "host": "blog-prod-123.ew.r.appspot.com",
            "instanceId": "00c61b117c1f",
            "finished": True,
        },
    )


def gke_container(line: str, container: str = "nginx", namespace: str = "blog") -> dict[str, Any]:
    """A GKE container's stdout line (cloud.google.com/kubernetes-engine/docs/concepts/about-logs):
    resource k8s_container, logName .../logs/stdout, textPayload keeps its newline."""
    return _entry(
        logName=f"projects/{PROJECT}/logs/stdout",
        resource={
            "type": "k8s_container",
            "labels": {
                "project_id": PROJECT,
                "location": "europe-west1-b",
                "cluster_name": "blog-cluster",
                "namespace_name": namespace,
                "pod_name": f"{container}-6d4cf56db6-8xk2p",
                "container_name": container,
            },
        },
        labels={"k8s-pod/app": container, "compute.googleapis.com/resource_name": "gke-blog-pool-1-a1b2c3d4-x9z8"},
        textPayload=line + "\n",
    )


def example_line(name: str) -> str:
    """The access line of the format example called `name` (functions/formats/*.py EXAMPLES)."""
    for fmt in formats.FORMATS:
        for example in fmt.EXAMPLES:
            text = example.entry.get("textPayload")
            if example.name == name and isinstance(text, str):
                return text.rstrip("\n")
    raise KeyError(name)


NGINX_COMBINED = example_line("nginx-combined")
NGINX_MAIN = example_line("nginx-main-with-forwarded-for")
INGRESS_NGINX = example_line("ingress-nginx")
APACHE_COMMON = example_line("apache-common")
APACHE_VHOST_COMBINED = example_line("apache-vhost-combined")
ENVOY_DEFAULT = example_line("envoy-default")
ISTIO_DEFAULT = example_line("istio-default")
NGINX_ERROR = example_line("nginx-error-log-is-no-request")  # mentions a request, is not one


def nginx_json() -> dict[str, Any]:
    """nginx `log_format json_combined escape=json '{...}'` as Cloud Logging stores JSON
    stdout lines: parsed into jsonPayload (cloud.google.com/logging/docs/structured-logging)."""
    entry = gke_container("", container="nginx")
    del entry["textPayload"]
    entry["jsonPayload"] = {
        "time_iso8601": "2026-11-20T09:15:02+00:00",
        "remote_addr": "198.51.100.23",
        "request": "GET /tags/python?page=3 HTTP/1.1",
        "status": "200",
        "body_bytes_sent": "5120",
        "request_time": "0.003",
        "http_referer": "",
        "http_user_agent": "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "host": "blog.example.com",
        "scheme": "https",
        "request_length": "87",
    }
    return entry


def iap_audit() -> dict[str, Any]:
    """IAP AuthorizeUser audit log (cloud.google.com/iap/docs/audit-log-howto): its
    protoPayload.request.httpRequest describes the checked request; it is no request log."""
    return _entry(
        logName=f"projects/{PROJECT}/logs/cloudaudit.googleapis.com%2Fdata_access",
        resource={"type": "gce_backend_service", "labels": {"project_id": PROJECT, "backend_service_id": "1234"}},
        protoPayload={
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "serviceName": "iap.googleapis.com",
            "methodName": "AuthorizeUser",
            "authenticationInfo": {"principalEmail": "alice@example.com"},
            "request": {
                "@type": "type.googleapis.com/cloud.security.gatekeeper.AuthorizeUserRequest",
                "httpRequest": {"url": "https://admin.example.com/"},
            },
            "status": {},
        },
    )


def gen1_function() -> dict[str, Any]:
    """Cloud Functions (1st gen) execution log (cloud.google.com/functions/1stgendocs/monitoring/logging):
    no httpRequest, a DEBUG text line."""
    return _entry(
        logName=f"projects/{PROJECT}/logs/cloudfunctions.googleapis.com%2Fcloud-functions",
        resource={"type": "cloud_function", "labels": {"function_name": "thumbnail", "region": "us-central1"}},
        severity="DEBUG",
        textPayload="Function execution started",
        labels={"execution_id": "a1b2c3d4e5f6"},
    )


def data(entry: dict[str, Any]) -> bytes:
    return orjson.dumps(entry)


def pushed(entry: dict[str, Any] | bytes, message_id: str = "9876543210") -> Message:
    """The message as a push subscription delivers it: base64 text."""
    raw = entry if isinstance(entry, bytes) else data(entry)
    return Message(
        data=base64.b64encode(raw),
        message_id=message_id,
        publish_time="2026-11-20T09:15:03.5Z",
        attributes={"logging.googleapis.com/timestamp": "2026-11-20T09:15:02.123456789Z"},
        subscription="projects/blog-prod-123/subscriptions/logexport-ingest",
        data_is_base64=True,
    )


def variant(entry: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy with top-level fields replaced (None deletes)."""
    copied = copy.deepcopy(entry)
    for key, value in changes.items():
        if value is None:
            copied.pop(key, None)
        else:
            copied[key] = value
    return copied


def stack_trace() -> dict[str, Any]:
    """A Java exception on a GKE container's stderr, as the logging agent groups it into one
    entry (cloud.google.com/kubernetes-engine/docs/concepts/about-logs: stderr is ERROR)."""
    entry = gke_container(
        'Exception in thread "main" java.lang.IllegalStateException: boom\n'
        "\tat com.example.Blog.render(Blog.java:42)\n\tat com.example.Blog.main(Blog.java:7)",
        container="blog-api",
    )
    entry["logName"] = f"projects/{PROJECT}/logs/stderr"
    entry["severity"] = "ERROR"
    return entry


def cloud_run_app_log() -> dict[str, Any]:
    """A Cloud Run service's structured JSON log line (cloud.google.com/run/docs/logging#writing_structured_logs):
    `severity` becomes the entry's; `message` stays in jsonPayload, and the Logs Explorer shows it."""
    return variant(
        cloud_run(),
        logName=f"projects/{PROJECT}/logs/run.googleapis.com%2Fstdout",
        httpRequest=None,
        severity="WARNING",
        jsonPayload={"message": "cache miss ratio high", "ratio": 0.93, "component": "feed"},
    )


def gke_node() -> dict[str, Any]:
    """A GKE node's kubelet log (cloud.google.com/kubernetes-engine/docs/concepts/about-logs): resource k8s_node."""
    return variant(
        gen1_function(),
        logName=f"projects/{PROJECT}/logs/kubelet",
        resource={"type": "k8s_node", "labels": {"node_name": "gke-blog-pool-1-a1b2c3d4-x9z8", "cluster_name": "blog"}},
        severity="NOTICE",
        textPayload="Pod sandbox changed, it will be killed and re-created.",
        labels=None,
    )
