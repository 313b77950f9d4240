"""Builders of realistic outcomes and per-test destinations for the sink tests.

Rows are written here by hand from a load balancer LogEntry, so these tests do not depend on
the parser; names are unique per test so that tests never see each other's data.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import orjson
import pytest

from functions import timestamps
from functions.config import Settings, WriteMethod
from functions.message import Message
from functions.outcome import NOT_JSON, Outcome
from functions.pipeline import failed
from local.emulators import Stack
from sinks.archive import MAX_OBJECT_BYTES, Archiver
from sinks.bigquery import BigQuerySink

PROJECT = "test-project"


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def message(payload: bytes, message_id: str, publish_time: str = "2024-05-01T10:15:01.5Z") -> Message:
    return Message(
        data=payload,
        message_id=message_id,
        publish_time=publish_time,
        attributes={"logging.googleapis.com/timestamp": "2024-05-01T10:15:00.123456789Z"},
        subscription="projects/test-project/subscriptions/logs-push",
    )


def http_outcome(
    n: int,
    *,
    log_id: str = "requests",
    time: str = "2024-05-01T10:15:00.123456Z",
    insert_id: str | None = "default",
    message_id: str | None = None,
    **row_overrides: Any,
) -> Outcome:
    """An `http` outcome for the n-th request of an HTTP(S) load balancer request log; `row_overrides` edit its row.
    `time` is normalised as the parser does (once, before any sink sees it)."""
    insert_id = f"1q2w3e{n:06d}" if insert_id == "default" else insert_id
    message_id = message_id or f"{9000000000 + n}"
    entry = {
        "insertId": insert_id,
        "logName": f"projects/demo-blog/logs/{quote(log_id, safe='')}",
        "resource": {
            "type": "http_load_balancer",
            "labels": {"project_id": "demo-blog", "forwarding_rule_name": "k8s2-fr-blog", "zone": "global"},
        },
        "timestamp": time,
        "receiveTimestamp": "2024-05-01T10:15:00.456789Z",
        "severity": "INFO",
        "httpRequest": {
            "requestMethod": "GET",
            "requestUrl": f"https://blog.example.com/posts/{n}?ref=rss",
            "requestSize": "120",
            "status": 200,
            "responseSize": "10591",
            "userAgent": "Go-http-client/1.1",
            "remoteIp": "203.0.113.7",
            "serverIp": "10.31.0.5",
            "latency": "0.012345s",
            "protocol": "HTTP/1.1",
            "cacheLookup": True,
        },
        "trace": "projects/demo-blog/traces/0af7651916cd43dd8448eb211c80319c",
        "spanId": "b7ad6b7169203331",
        "labels": {"env": "prod"},
    }
    payload = orjson.dumps(entry)
    time = timestamps.normalize(time) or time
    row: dict[str, Any] = {
        "timestamp": time,
        "receive_timestamp": "2024-05-01T10:15:00.456789Z",
        "publish_time": "2024-05-01T10:15:01.500000Z",
        "insert_id": insert_id,
        "message_id": message_id,
        "log_name": entry["logName"],
        "log_id": log_id,
        "resource_type": "http_load_balancer",
        "project_id": "demo-blog",
        "severity": "INFO",
        "trace": entry["trace"],
        "span_id": entry["spanId"],
        "resource_labels": orjson.dumps(entry["resource"]["labels"]).decode(),  # type: ignore[index]
        "labels": '{"env":"prod"}',
        "source": "httpRequest",
        "method": "GET",
        "url": f"https://blog.example.com/posts/{n}?ref=rss",
        "scheme": "https",
        "host": "blog.example.com",
        "path": f"/posts/{n}",
        "query": "ref=rss",
        "status": 200,
        "request_size": 120,
        "response_size": 10591,
        "latency_seconds": 0.012345,
        "user_agent": "Go-http-client/1.1",
        "remote_ip": "203.0.113.7",
        "server_ip": "10.31.0.5",
        "referer": None,
        "protocol": "HTTP/1.1",
        "cache_hit": False,
        "cache_lookup": True,
    }
    row.update(row_overrides)
    return Outcome(
        kind="http",
        message=message(payload, message_id),
        payload=payload,
        row=row,
        log_id=log_id,
        event_time=time,
    )


def error_outcome(message_id: str, payload: bytes = b"\xffnot json") -> Outcome:
    return failed(message(payload, message_id), payload, NOT_JSON, "message data is not JSON", "decode")


@dataclass(frozen=True)
class Destinations:
    """A dataset and a bucket of one test's own, on the session's emulators."""

    stack: Stack
    dataset: str = field(default_factory=lambda: unique("logs"))
    bucket: str = field(default_factory=lambda: unique("archive").replace("_", "-"))

    def env(self, method: WriteMethod = "storage_write", budget: float = 30.0) -> dict[str, str]:
        return {
            **self.stack.env(),
            "BIGQUERY_DATASET": self.dataset,
            "BIGQUERY_WRITE_METHOD": method,
            "ARCHIVE_BUCKET": self.bucket,
            "ARCHIVE_PREFIX": "logs",
            "WRITE_BUDGET_SECONDS": str(budget),
        }

    def settings(self, method: WriteMethod = "storage_write", budget: float = 30.0) -> Settings:
        return Settings.from_env(self.env(method, budget))

    def sink(self, method: WriteMethod = "storage_write", budget: float = 30.0) -> BigQuerySink:
        return BigQuerySink(self.settings(method, budget))

    def archiver(self, budget: float = 30.0, max_object_bytes: int = MAX_OBJECT_BYTES) -> Archiver:
        return Archiver(self.settings(budget=budget), max_object_bytes)


@pytest.fixture
def dest(stack: Stack) -> Destinations:
    return Destinations(stack)
