"""One module per log format, tried in the order of `FORMATS`; the first that reads a request wins.

Each module declares where its format is documented (its docstring), `READS` (the LogEntry
field it looks at), `EXAMPLES` (input -> expected columns, run by one parametrised test) and
`parse(value, entry) -> Fields | None`. None means "not this format"; a value that is this
format but of the wrong kind raises `functions.fields.BadFieldError`. Text formats also
expose `parse_line` and `line_time` for raw lines.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from functions.formats import appengine, combined, envoy, envoy_json, http_request, json_record, wrapped_line
from functions.formats.example import Example
from functions.request import Fields


class Format(Protocol):
    """What a format module provides (modules satisfy protocols structurally)."""

    @property
    def __name__(self) -> str: ...

    @property
    def READS(self) -> str: ...  # noqa: N802  # a module constant

    @property
    def EXAMPLES(self) -> tuple[Example, ...]: ...  # noqa: N802

    def parse(self, value: Any, entry: Any, /) -> Fields | None: ...


@runtime_checkable
class LineFormat(Format, Protocol):
    def parse_line(self, text: str, /) -> Fields | None: ...

    def line_time(self, text: str, /) -> str | None: ...


# App Engine before httpRequest: its httpRequest may hold only the status, the rest is in protoPayload.
FORMATS: tuple[Format, ...] = (appengine, http_request, combined, envoy, json_record, envoy_json, wrapped_line)
# The text formats, in the same order, for lines found elsewhere (raw lines, wrapped records).
LINE_FORMATS: tuple[LineFormat, ...] = tuple(f for f in FORMATS if isinstance(f, LineFormat))


def find(entry: dict[str, Any]) -> Fields | None:
    """The request an entry records, as a format read it, or None. Only the entry's own fields
    count: an audit log's `protoPayload.request.httpRequest` describes a call, not a served request."""
    for fmt in FORMATS:
        value = entry.get(fmt.READS)
        if value is not None:
            found = fmt.parse(value, entry)
            if found is not None:
                return found
    return None


def line_time(text: str) -> str | None:
    """A raw access line's own time in UTC, by the first text format that reads the line."""
    for fmt in LINE_FORMATS:
        found = fmt.line_time(text)
        if found is not None:
            return found
    return None
