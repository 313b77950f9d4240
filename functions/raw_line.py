"""A raw access line as a LogEntry: how `parse --lines` and `make publish` feed lines to the core.

The entry's `timestamp` is the line's own time (`[27/Nov/2026:10:15:32 +0100]`, Envoy's
`[2026-11-27T09:15:32.123Z]`), so a replayed historical log lands in its own day's partition;
a line with no time of its own takes the time it was read.
"""

from __future__ import annotations

from typing import Any

from functions import formats, timestamps


def as_logentry(line: str, read_at: str | None = None, **fields: Any) -> dict[str, Any]:
    """`line` (no trailing newline) as a textPayload; `fields` add LogEntry fields (logName, resource...)."""
    read_at = read_at or timestamps.now()
    entry: dict[str, Any] = {
        "timestamp": formats.line_time(line) or read_at,
        "receiveTimestamp": read_at,
        "textPayload": line + "\n",
    }
    entry.update(fields)
    return entry
