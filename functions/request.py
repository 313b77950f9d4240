"""The request half of an `http_requests` row, filled the same way by every format."""

from __future__ import annotations

from typing import Any

from functions.fields import split_url

RequestColumns = dict[str, Any]


def request_columns(
    *,
    source: str,
    method: str | None = None,
    url: str | None = None,
    host: str | None = None,
    status: int | None = None,
    request_size: int | None = None,
    response_size: int | None = None,
    latency_seconds: float | None = None,
    user_agent: str | None = None,
    remote_ip: str | None = None,
    server_ip: str | None = None,
    referer: str | None = None,
    protocol: str | None = None,
    cache_hit: bool | None = None,
    cache_lookup: bool | None = None,
) -> RequestColumns:
    """Splits `url` into scheme/host/path/query; an explicit `host` (vhost, :authority,
    App Engine's host) is used when the URL itself names none."""
    scheme, url_host, path, query = split_url(url)
    return {
        "source": source,
        "method": method,
        "url": url,
        "scheme": scheme,
        "host": url_host or host,
        "path": path,
        "query": query,
        "status": status,
        "request_size": request_size,
        "response_size": response_size,
        "latency_seconds": latency_seconds,
        "user_agent": user_agent,
        "remote_ip": remote_ip,
        "server_ip": server_ip,
        "referer": referer,
        "protocol": protocol,
        "cache_hit": cache_hit,
        "cache_lookup": cache_lookup,
    }
