"""The request half of an `http_requests` row, filled the same way by every format."""

from __future__ import annotations

from typing import Any

from functions.fields import split_url

RequestColumns = dict[str, Any]


COLUMNS = (
    "source", "method", "url", "scheme", "host", "path", "query", "status", "request_size", "response_size",
    "latency_seconds", "user_agent", "remote_ip", "server_ip", "referer", "protocol", "cache_hit", "cache_lookup",
)  # fmt: skip
_EMPTY: RequestColumns = dict.fromkeys(COLUMNS)


def request_columns(source: str, **fields: Any) -> RequestColumns:
    """The request columns from keyword fields (method, url, host, status, ...; see COLUMNS)."""
    return complete(source, fields)


def complete(source: str, fields: RequestColumns) -> RequestColumns:
    """Fills the columns a format did not set with NULL and splits `url` into
    scheme/host/path/query; a `host` a format found elsewhere (vhost, :authority, App
    Engine's host) is kept when the URL itself names none."""
    columns = _EMPTY.copy()
    columns.update(fields)
    columns["source"] = source
    scheme, url_host, columns["path"], columns["query"] = split_url(columns["url"])
    columns["scheme"] = scheme
    if url_host is not None:
        columns["host"] = url_host
    return columns
