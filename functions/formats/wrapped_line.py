"""An access line inside a JSON record: `{"log": "<line>\\n", "stream": "stdout", "time": ...}`.

This is Docker's json-file log record (docs.docker.com/engine/logging/drivers/json-file/),
which Fluentd and Fluent Bit forward as is when no parser is set, so the line arrives in
`jsonPayload.log`; agents set up to name that field `message` are read the same way. The line is read by the text formats, in their order.
"""

from __future__ import annotations

from typing import Any

from functions import formats
from functions.formats.example import json_payload
from functions.request import Fields

READS = "jsonPayload"

EXAMPLES = (
    json_payload("docker-json-file-record", {
        "log": '10.8.0.1 - - [20/Nov/2026:09:15:02 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.31"\n',
        "stream": "stdout", "time": "2026-11-20T09:15:02.123456789Z",
    }, {"source": "combined", "path": "/healthz", "status": 200, "user_agent": "kube-probe/1.31"}),
    json_payload("message-key", {
        "message": '[2026-11-20T09:15:02.123Z] "GET / HTTP/1.1" 200 - 0 5 1 1 "-" "curl/8.5.0" "id" "web" "-"',
    }, {"source": "envoy", "host": "web", "status": 200}),
    json_payload("app-message-is-no-request", {"message": "cache warmed in 12 ms", "severity": "INFO"}, None),
)  # fmt: skip


def parse(record: Any, entry: Any = None) -> Fields | None:
    if not isinstance(record, dict):
        return None
    text = record.get("log")
    if not isinstance(text, str):
        text = record.get("message")
        if not isinstance(text, str):
            return None
    line = text.rstrip("\r\n")
    for fmt in formats.LINE_FORMATS:
        found = fmt.parse_line(line)
        if found is not None:
            return found
    return None
