"""The one definition of each BigQuery table this project writes.

Terraform reads the JSON files generated from here (`python -m functions schemas`),
the local `ensure` path builds tables from here, and a test fails when the files are stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Column:
    """One column: BigQuery's JSON schema format needs only these four keys."""

    name: str
    type: str
    description: str
    mode: str = "NULLABLE"
    minimum: float | None = None  # the least value that makes sense (not part of BigQuery's schema)

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "type": self.type, "mode": self.mode, "description": self.description}


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def to_json(self) -> str:
        return json.dumps([c.to_json() for c in self.columns], indent=2) + "\n"


HTTP_REQUESTS = Table(
    name="http_requests",
    description="One typed row per HTTP request found in exported Cloud Logging entries.",
    columns=(
        Column("timestamp", "TIMESTAMP", "LogEntry timestamp, else receiveTimestamp, else publish time.", "REQUIRED"),
        Column("receive_timestamp", "TIMESTAMP", "LogEntry receiveTimestamp."),
        Column("publish_time", "TIMESTAMP", "Pub/Sub publish time of the message."),
        Column("insert_id", "STRING", "LogEntry insertId: the de-duplication key."),
        Column("message_id", "STRING", "Pub/Sub message id."),
        Column("log_name", "STRING", "LogEntry logName as exported."),
        Column("log_id", "STRING", "Short, URL-decoded log id (the part after /logs/)."),
        Column("resource_type", "STRING", "Monitored resource type, e.g. http_load_balancer."),
        Column("project_id", "STRING", "Project of the resource (resource.labels.project_id or logName)."),
        Column("severity", "STRING", "LogEntry severity."),
        Column("trace", "STRING", "LogEntry trace."),
        Column("span_id", "STRING", "LogEntry spanId."),
        Column("resource_labels", "JSON", "Monitored resource labels."),
        Column("labels", "JSON", "LogEntry user labels."),
        Column("source", "STRING", "Parser that produced the row: httpRequest, appengine, combined, ..."),
        Column("method", "STRING", "HTTP request method."),
        Column("url", "STRING", "Request target exactly as logged."),
        Column("scheme", "STRING", "URL scheme when the target is absolute."),
        Column("host", "STRING", "Host name without port."),
        Column("path", "STRING", "Path without query string, still percent-encoded."),
        Column("query", "STRING", "Query string without the leading '?'."),
        Column("status", "INT64", "HTTP response status code.", minimum=0),
        Column("request_size", "INT64", "Request size in bytes, headers and body.", minimum=0),
        Column("response_size", "INT64", "Response size in bytes (body bytes for access lines).", minimum=0),
        Column("latency_seconds", "FLOAT64", "Time to serve the request, in seconds.", minimum=0),
        Column("user_agent", "STRING", "User-Agent header."),
        Column("remote_ip", "STRING", "Client IP address without port."),
        Column("server_ip", "STRING", "Server IP address without port."),
        Column("referer", "STRING", "Referer header."),
        Column("protocol", "STRING", "Protocol, e.g. HTTP/1.1."),
        Column("cache_hit", "BOOL", "Whether the response came from a cache."),
        Column("cache_lookup", "BOOL", "Whether a cache lookup was attempted."),
        Column("ua_browser", "STRING", "Browser or client family from the user agent (uap-core), e.g. Chrome, curl."),
        Column("ua_os", "STRING", "Operating system family from the user agent (uap-core), e.g. Android."),
        Column("ua_device", "STRING", "Device class from the user agent: desktop, mobile, tablet, bot or other."),
        Column("is_bot", "BOOL", "Automated client: crawler, HTTP library or probe (Crawler-Detect, uap-core)."),
    ),
)

ERRORS = Table(
    name="errors",
    description="Messages that could not become rows, in the spirit of Dataflow error-records tables.",
    columns=(
        Column("error_timestamp", "TIMESTAMP", "When the processor recorded the error.", "REQUIRED"),
        Column("message_id", "STRING", "Pub/Sub message id."),
        Column("publish_time", "TIMESTAMP", "Pub/Sub publish time."),
        Column("subscription", "STRING", "Subscription the message came from, when known."),
        Column("attributes", "JSON", "Pub/Sub message attributes."),
        Column("payload", "STRING", "Message data as text, when it is valid UTF-8."),
        Column("payload_bytes", "BYTES", "Message data exactly as received."),
        Column("reason", "STRING", "Stable reason code, e.g. bad_base64, not_json, bq_rejected.", "REQUIRED"),
        Column("message", "STRING", "Human-readable explanation."),
        Column("stage", "STRING", "Where it failed: envelope, decode, parse or write."),
    ),
)

TABLES: tuple[Table, ...] = (HTTP_REQUESTS, ERRORS)

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "terraform" / "schemas"


def write_schema_files(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Writes `<table>.json` for every table; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for table in TABLES:
        path = directory / f"{table.name}.json"
        path.write_text(table.to_json())
        paths.append(path)
    return paths
