"""NCSA common and combined access lines (nginx and Apache), and their usual extensions.

    common        127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326
    combined      ... 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"
    vhost prefix  www.example.com:443 127.0.0.1 - - [...] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"
    nginx main    combined + ` "$http_x_forwarded_for"`
    ingress-nginx combined + ` $request_length $request_time [$proxy_upstream_name]
                  [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length
                  $upstream_response_time $upstream_status $req_id`

Formats: Apache mod_log_config (httpd.apache.org/docs/current/mod/mod_log_config.html),
nginx `log_format combined` / `main` (nginx.org/en/docs/http/ngx_http_log_module.html),
ingress-nginx `log-format-upstream` (kubernetes.github.io/ingress-nginx/user-guide/
nginx-configuration/log-format/). `-` means "no value"; binary request lines (a TLS
handshake on port 80) arrive escaped as `\\xHH` and yield no method or URL.
"""

from __future__ import annotations

import re

from functions.fields import ip_without_port, number_seconds, quoted, request_line, to_int, unescape
from functions.request import RequestColumns, request_columns

_LINE = re.compile(
    r"(?P<prefix>[^\[\"]*?) ?\[(?P<time>\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "
    + quoted("request")
    + r" (?P<status>\d{3}|-) (?P<size>\d+|-)(?P<rest>.*)",
    re.DOTALL,
)
_REFERER_AGENT = re.compile(r" (?:" + quoted("referer") + r"|-) (?:" + quoted("agent") + r"|-)(?P<tail>.*)", re.DOTALL)
_INGRESS_NGINX = re.compile(
    r" (?P<request_length>\d+) (?P<request_time>[\d.]+) \[[^\]]*\] \[[^\]]*\] .+ \S+ \S+ \S+ \S+\s*\Z", re.DOTALL
)


def parse(line: str) -> RequestColumns | None:
    m = _LINE.match(line)
    if m is None:
        return None
    tokens = m["prefix"].split()
    if len(tokens) == 4:
        vhost, remote = tokens[0], tokens[1]
    elif len(tokens) in (1, 3):
        vhost, remote = None, tokens[0]
    else:
        return None
    method, url, protocol = request_line(unescape(m["request"]))
    referer = agent = None
    source = "common"
    latency = None
    request_size = None
    tail = m["rest"]
    ra = _REFERER_AGENT.match(tail)
    if ra is not None:
        source = "combined"
        referer = _text(ra["referer"])
        agent = _text(ra["agent"])
        tail = ra["tail"]
        upstream = _INGRESS_NGINX.match(tail)
        if upstream is not None:
            source = "ingress-nginx"
            request_size = int(upstream["request_length"])
            latency = number_seconds(upstream["request_time"])
    return request_columns(
        source=source,
        method=method,
        url=url,
        host=vhost.rsplit(":", 1)[0] if vhost else None,
        status=to_int("status", m["status"]),
        request_size=request_size,
        response_size=to_int("size", m["size"]),
        latency_seconds=latency,
        user_agent=agent,
        remote_ip=ip_without_port(remote),
        referer=referer,
        protocol=protocol,
    )


def _text(value: str | None) -> str | None:
    return unescape(value) if value and value != "-" else None
