"""What every format module declares beside its reader: examples, input -> expected columns.

One parametrised test (tests/functions/formats/test_examples.py) runs each example through
the whole core (`functions.pipeline.process`) inside a realistic LogEntry and compares the
columns; `local/` and `bench/` draw sample traffic from the same examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Example:
    """`entry` holds the LogEntry fields that carry the request (`textPayload`, `jsonPayload`,
    `httpRequest`, `protoPayload`); `expect` the request columns a reader must make of it,
    or None when it is not a request (the entry is archived only)."""

    name: str
    entry: dict[str, Any]
    expect: dict[str, Any] | None
    resource_type: str = field(default="k8s_container")


def line(name: str, text: str, expect: dict[str, Any] | None) -> Example:
    """An access line as a GKE container's stdout: the textPayload keeps its newline."""
    return Example(name, {"textPayload": text + "\n"}, expect)


def json_payload(name: str, record: dict[str, Any], expect: dict[str, Any] | None) -> Example:
    """A JSON line that Cloud Logging's agent parsed into jsonPayload."""
    return Example(name, {"jsonPayload": record}, expect)
