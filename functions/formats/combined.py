"""NCSA common and combined access lines (nginx and Apache), and their usual extensions.

    common        127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326
    combined      ... 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"
    vhost prefix  www.example.com:443 127.0.0.1 - - [...] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"
    logger prefix info: [web] 127.0.0.1 - - [...] "GET / HTTP/1.1" 200 612 "-" "curl/8.0"
    extra number  ... 200 612 1043 "-" "curl/8.0"   (a size or time logged before the referer)
    nginx main    combined + ` "$http_x_forwarded_for"`
    ingress-nginx combined + ` $request_length $request_time [$proxy_upstream_name]
                  [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length
                  $upstream_response_time $upstream_status $req_id`

Formats: Apache mod_log_config (httpd.apache.org/docs/current/mod/mod_log_config.html, whose
"Security Considerations" give the escapes: `\\"`, `\\\\`, C escapes `\\n` `\\t` for whitespace,
`\\xhh` for other bytes), nginx `log_format combined` / `main` and its `\\xHH` escaping
(nginx.org/en/docs/http/ngx_http_log_module.html), ingress-nginx `log-format-upstream`
(kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/log-format/). `-` means
"no value"; a request line that is no request (a TLS handshake on port 80, a bare newline)
gives a row with its status but no method or URL.
"""

from __future__ import annotations

import re
from typing import Any

from functions import timestamps
from functions.fields import host_without_port, ip_without_port, number_seconds, quoted, request_line, to_int, unescape
from functions.formats.example import Example, line
from functions.request import Fields

READS = "textPayload"

_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
_NGINX = f'198.51.100.23 - - [20/Nov/2026:09:15:02 +0000] "GET /posts/hello-world HTTP/1.1" 200 10589 "https://www.google.com/" "{_UA}"'

EXAMPLES = (
    line("nginx-combined", _NGINX,
         {"source": "combined", "method": "GET", "url": "/posts/hello-world", "path": "/posts/hello-world",
          "status": 200, "response_size": 10589, "remote_ip": "198.51.100.23", "referer": "https://www.google.com/",
          "user_agent": _UA, "protocol": "HTTP/1.1", "host": None, "latency_seconds": None}),
    line("nginx-main-with-forwarded-for", _NGINX + ' "203.0.113.7, 10.8.0.4"',
         {"source": "combined", "remote_ip": "198.51.100.23", "user_agent": _UA}),
    line("ingress-nginx",
         '10.8.0.1 - - [20/Nov/2026:09:15:02 +0000] "POST /api/comments?post=42 HTTP/2.0" 201 402 '
         '"https://blog.example.com/posts/hello-world" "Mozilla/5.0 (X11; Linux x86_64)" 1284 0.188 '
         "[blog-comments-api-80] [] 10.8.2.17:8080 402 0.187 201 9f2c81ab7cd04e6f8a31e3b2a4f0c111",
         {"source": "ingress-nginx", "method": "POST", "query": "post=42", "status": 201, "request_size": 1284,
          "latency_seconds": 0.188, "protocol": "HTTP/2.0"}),
    line("apache-common", '192.0.2.1 - frank [10/Oct/2026:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326',
         {"source": "common", "method": "GET", "status": 200, "response_size": 2326, "user_agent": None}),
    line("apache-vhost-combined",
         'blog.example.com:443 192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET /feed.xml HTTP/1.1" 304 - "-" '
         '"Feedly/1.0 (+http://www.feedly.com/fetcher.html; 1 subscribers)"',
         {"source": "combined", "host": "blog.example.com", "status": 304, "response_size": None, "referer": None,
          "remote_ip": "192.0.2.1"}),
    line("vhost-ipv6-with-port",
         '[2001:db8::1]:443 2001:db8::9 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8.5.0"',
         {"source": "combined", "host": "2001:db8::1", "remote_ip": "2001:db8::9", "status": 200}),
    line("ipv6-client-and-absolute-target",
         '2001:db8::9 - - [20/Nov/2026:09:15:02 +0000] "GET http://proxy.example.com:8080/a?b=1 HTTP/1.1" 200 1',
         {"source": "common", "remote_ip": "2001:db8::9", "scheme": "http", "host": "proxy.example.com",
          "path": "/a", "query": "b=1"}),
    line("behind-a-logger-prefix",  # e.g. a Node.js app logging morgan's combined line through winston
         f'info: [web] 198.51.100.23 - - [20/Nov/2026:09:15:02 +0000] "GET /about HTTP/1.1" 200 512 "-" "{_UA}"',
         {"source": "combined", "method": "GET", "path": "/about", "remote_ip": "198.51.100.23", "host": None,
          "user_agent": _UA}),
    line("cri-prefix",  # a container runtime's log line read raw: time, stream, tag, then the access line
         '2026-11-20T09:15:02.123456789Z stdout F 10.8.0.1 - - [20/Nov/2026:09:15:02 +0000] "GET / HTTP/1.1" 200 5',
         {"source": "common", "remote_ip": "10.8.0.1", "status": 200, "response_size": 5}),
    line("extra-number-before-referer",
         f'198.51.100.23 - - [20/Nov/2026:09:15:02 +0000] "GET /feed.xml HTTP/1.1" 200 5120 1043 "-" "{_UA}"',
         {"source": "combined", "response_size": 5120, "referer": None, "user_agent": _UA}),
    line("escaped-newline-request",  # what a client sent as its request line was a bare newline
         '203.0.113.50 - - [20/Nov/2026:09:15:02 +0000] "\\n" 400 157 "-" "-"',
         {"source": "combined", "method": None, "url": None, "path": None, "status": 400, "response_size": 157}),
    line("tls-handshake-on-port-80",
         '203.0.113.50 - - [20/Nov/2026:09:15:02 +0000] "\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03" 400 157 "-" "-"',
         {"source": "combined", "method": None, "url": None, "status": 400, "user_agent": None}),
    line("apache-escapes",
         '192.0.2.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "a\\tb \\"q\\" c\\nd \\\\ caf\\xc3\\xa9"',
         {"user_agent": 'a\tb "q" c\nd \\ café'}),
    line("dash-status-and-size", '192.0.2.1 - - [20/Nov/2026:09:15:02 +0000] "OPTIONS * HTTP/1.1" - -',
         {"status": None, "response_size": None, "path": "*"}),
    line("hostname-client-is-no-ip",
         'crawler.example.net - - [20/Nov/2026:09:15:02 +0000] "GET / HTTP/1.0" 200 2',
         {"remote_ip": None, "status": 200}),
    Example("legacy-gke-container",  # GKE before Kubernetes Engine Monitoring: resource type `container`
            {"textPayload": _NGINX + "\n"}, {"source": "combined", "status": 200, "remote_ip": "198.51.100.23"},
            resource_type="container"),
    line("nginx-error-log-is-no-request",
         '2026/11/20 09:15:02 [error] 29#29: *4 open() "/usr/share/nginx/html/favicon.ico" failed (2: No such '
         'file or directory), client: 10.8.0.1, server: blog.example.com, request: "GET /favicon.ico HTTP/1.1"',
         None),
    line("apache-error-log-is-no-request", "[20/Nov/2026:09:15:02 +0000] [core:alert] [pid 1] AH00052", None),
    line("app-line-is-no-request",
         "2026-11-20 09:15:02.123 DEBUG 1 --- [nio-8080-exec-1] o.s.web.servlet: Completed 200 OK", None),
)  # fmt: skip

_TIME = r"\[(?P<time>\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "
_LINE = re.compile(
    r"(?P<prefix>[^\"\n]*?)" + _TIME + quoted("request") + r" (?P<status>\d{3}|-) (?P<size>\d+|-)(?P<rest>.*)",
    re.DOTALL,
)
_REFERER_AGENT = re.compile(
    r"(?: \d+(?:\.\d+)?){0,2} (?:" + quoted("referer") + r"|-) (?:" + quoted("agent") + r"|-)(?P<tail>.*)", re.DOTALL
)
_INGRESS_NGINX = re.compile(
    r" (?P<request_length>\d+) (?P<request_time>[\d.]+) \[[^\]]*\] \[[^\]]*\] .+ \S+ \S+ \S+ \S+\s*\Z", re.DOTALL
)
# A vhost prefix is one `host`, `host:port` or `[v6]:port` token; anything else before the
# client is a logger's prefix.
_VHOST = re.compile(r"(?:\[[0-9A-Fa-f:.%\w]+\]|[\w.-]+)(?::\d+)?\Z")


def parse(text: Any, entry: Any = None) -> Fields | None:
    return parse_line(text.rstrip("\r\n")) if isinstance(text, str) else None


def line_time(text: str) -> str | None:
    """The line's own time (`%t`), in UTC."""
    m = _LINE.match(text)
    return timestamps.from_access_log(m["time"]) if m is not None else None


def parse_line(text: str) -> Fields | None:
    m = _LINE.match(text)
    if m is None:
        return None
    prefix, _, request, status, size, rest = m.groups()  # by position: a name lookup each costs
    tokens = prefix.split()
    vhost = None
    if len(tokens) >= 3:
        remote = tokens[-3]
        if len(tokens) == 4 and _VHOST.match(tokens[0]):
            vhost = tokens[0]
    elif len(tokens) == 1:  # client only, no ident and user: lenient
        remote = tokens[0]
    else:
        return None
    method, url, protocol = request_line(unescape(request))
    fields: Fields = {
        "source": "common",
        "method": method,
        "url": url,
        "host": host_without_port(vhost) if vhost is not None else None,
        "status": int(status) if status.isascii() and status.isdigit() else to_int("status", status),
        "response_size": int(size) if size.isascii() and size.isdigit() and len(size) < 19 else to_int("size", size),
        "remote_ip": ip_without_port(remote),
        "protocol": protocol,
    }
    ra = _REFERER_AGENT.match(rest)
    if ra is not None:
        referer, agent, tail = ra.groups()
        fields["source"] = "combined"
        fields["referer"] = _text(referer)
        fields["user_agent"] = _text(agent)
        upstream = _INGRESS_NGINX.match(tail)
        if upstream is not None:
            fields["source"] = "ingress-nginx"
            fields["request_size"] = to_int("request_length", upstream["request_length"])
            fields["latency_seconds"] = number_seconds(upstream["request_time"])
    return fields


def _text(value: str | None) -> str | None:
    return unescape(value) if value and value != "-" else None
