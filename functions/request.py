"""The request half of an `http_requests` row, filled the same way for every format."""

from __future__ import annotations

from typing import Any

from functions.fields import split_url

# What a format returns: `source` and whichever request columns it read (see COLUMNS).
Fields = dict[str, Any]
RequestColumns = dict[str, Any]

COLUMNS = (
    "source", "method", "url", "scheme", "host", "path", "query", "status", "request_size", "response_size",
    "latency_seconds", "user_agent", "remote_ip", "server_ip", "referer", "protocol", "cache_hit", "cache_lookup",
)  # fmt: skip
_EMPTY: RequestColumns = dict.fromkeys(COLUMNS)


def complete(fields: Fields) -> RequestColumns:
    """A format's fields as request columns (see `fill`)."""
    columns = _EMPTY.copy()
    fill(columns, fields)
    return columns


def fill(columns: dict[str, Any], fields: Fields) -> None:
    """The one path from a format's fields to request columns, written into `columns` (a row
    whose request columns are all NULL): NULL stays for what the format did not set, `url` is
    split into scheme/host/path/query. A `host` the format found elsewhere (vhost, :authority,
    App Engine's host) is kept when the URL itself names none, and so is a `scheme` it read
    beside the URL."""
    columns.update(fields)
    scheme, url_host, columns["path"], columns["query"] = split_url(columns["url"])
    if scheme is not None:
        columns["scheme"] = scheme
    if url_host is not None:
        columns["host"] = url_host
