"""Coercions shared by the formats: numbers, durations, addresses, URLs, escapes.

Every format hands its raw values through these, so that "200", 200 and 200.0 all become
200, and `-` placeholders, empty strings and absent fields all become None.

The value rule (README, "What becomes a row"): a value of the wrong kind (an object where a
number belongs, text that is no number) is a `BadFieldError`, which makes the message a
`bad_field` error; a value of the right kind that its column cannot hold (an integer outside
0..INT64_MAX, a negative or infinite duration, an address that is no IP) becomes NULL and the
row is kept. The archive keeps the original either way.
"""

from __future__ import annotations

import ipaddress
import math
import re
from functools import lru_cache
from typing import Any

INT64_MAX = 2**63 - 1


class BadFieldError(ValueError):
    """A field we need has a type or value no reading can make sense of."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field}: expected {expected}, got {shown}")
        self.field = field


_INT_TEXT = re.compile(r"\s*(-?\d+)\s*\Z", re.ASCII)


def to_int(field: str, value: Any) -> int | None:
    """A count or a status: 200, "200", 200.0 -> 200; None, "" and "-" -> None; an integer
    outside 0..INT64_MAX -> None (unrepresentable); anything else is a BadFieldError."""
    if value is None:
        return None
    if type(value) is int:
        return value if 0 <= value <= INT64_MAX else None
    if isinstance(value, str):
        if value.isascii() and value.isdigit() and len(value) < 19:
            return int(value)
        m = _INT_TEXT.match(value)
        if m is not None:
            number = int(m.group(1)) if len(m.group(1)) <= 20 else -1
            return number if 0 <= number <= INT64_MAX else None
        if value.strip() in ("", "-"):
            return None
    elif isinstance(value, float) and value.is_integer():
        return int(value) if 0 <= value < 2**63 else None
    raise BadFieldError(field, value, "an integer")


def to_str(field: str, value: Any) -> str | None:
    """Strings pass, numbers become their text, `-` and "" become None; objects are a BadFieldError."""
    if isinstance(value, str):
        return value if value and value != "-" else None
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise BadFieldError(field, value, "a string")


def to_bool(field: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    raise BadFieldError(field, value, "a boolean")


def seconds(value: float | None) -> float | None:
    """A duration a FLOAT64 column can hold: finite and not negative, else None."""
    if value is None or not 0.0 <= value < math.inf:
        return None
    return value


_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*s\s*\Z", re.ASCII)


def duration_seconds(value: Any) -> float | None:
    """A protobuf Duration as JSON ("0.012s"), loosely spaced (" 123 s "), or as an object
    ({"seconds": 1, "nanos": 344200000}) -> seconds. Other units are None: unknown, not zero."""
    if type(value) is str:
        number = value[:-1]  # the common "0.012345s", checked by str methods before the regex
        if value[-1:] == "s" and number.replace(".", "", 1).isdigit() and number.isascii():
            return seconds(float(number))
        m = _DURATION.match(value)
        return seconds(float(m.group(1))) if m else None
    if isinstance(value, dict):
        whole, nanos = value.get("seconds", 0), value.get("nanos", 0)
        try:
            return seconds(float(int(whole)) + int(nanos) / 1e9)
        except (TypeError, ValueError, OverflowError):  # OverflowError: more seconds than a float holds
            return None
    return None


def number_seconds(value: Any, scale: float = 1.0) -> float | None:
    """A plain decimal duration ("0.050", 0.05, or "4" ms with scale 0.001); `-` and junk -> None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return seconds(float(value) * scale)
    except (TypeError, ValueError, OverflowError):
        return None


@lru_cache(maxsize=8192)  # addresses repeat: most calls are cache hits
def split_host_port(authority: str | None) -> tuple[str | None, str | None]:
    """The one host/port splitter: "example.com:8080" -> ("example.com", "8080"),
    "user@[2001:db8::1]:443" -> ("2001:db8::1", "443"), "[::1]" -> ("::1", None), and a bare
    IPv6 address "2001:db8::1" (more than one colon, no brackets) is a host without port."""
    if not authority:
        return None, None
    authority = authority.strip().rpartition("@")[2]
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            return None, None
        host, rest = authority[1:end], authority[end + 1 :]
        port = rest[1:] if rest.startswith(":") else None
        return host or None, port or None
    if authority.count(":") == 1:
        host, _, port = authority.partition(":")
        return host or None, port or None
    return authority or None, None


def host_without_port(authority: str | None) -> str | None:
    """ "example.com:8080" -> "example.com", "user@h" -> "h", "[::1]:80" -> "::1"."""
    return split_host_port(authority)[0]


_IPV4 = re.compile(r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\Z")


@lru_cache(maxsize=8192)
def ip_without_port(value: str | None) -> str | None:
    """ "1.2.3.4:5678" -> "1.2.3.4", "[::1]:80" -> "::1", "::1" stays; not an IP -> None."""
    if not value:
        return None
    if _IPV4.match(value):
        return value
    host = split_host_port(value)[0]
    if host is None:
        return None
    if _IPV4.match(host):
        return host
    if ":" in host:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
        return host
    return None


def first_forwarded(value: str | None) -> str | None:
    """The client of an X-Forwarded-For list: its first address ("203.0.113.7, 10.8.0.4")."""
    if not value:
        return None
    return value.split(",", 1)[0].strip() or None


_ABSOLUTE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^?#]*)(?:\?([^#]*))?")


@lru_cache(maxsize=8192)  # popular URLs repeat
def split_url(url: str | None) -> tuple[str | None, str | None, str | None, str | None]:
    """Request target -> (scheme, host, path, query); path stays percent-encoded."""
    if not url:
        return None, None, None, None
    if url[0] == "/":
        path, sep, query = url.partition("?")
        return None, None, path.partition("#")[0], query.partition("#")[0] if sep else None
    m = _ABSOLUTE.match(url)
    if m is None:
        if url == "*":
            return None, None, "*", None
        return None, None, None, None
    scheme, authority, path, query = m.groups()
    return scheme.lower(), host_without_port(authority), path or "/", query


_REQUEST_LINE = re.compile(r"([A-Z][A-Z0-9_-]*) (\S+)(?: (\S+))?\Z")


_METHODS = frozenset(("GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"))


def request_line(text: str | None) -> tuple[str | None, str | None, str | None]:
    """ "GET /a?b HTTP/1.1" -> ("GET", "/a?b", "HTTP/1.1"); "-", "", "\\n" or binary junk -> Nones."""
    if text:
        # The common line without the regex: one of the usual methods and two more words split
        # by single spaces, no other whitespace (str.split and the regex's \S agree on what it is).
        parts = text.split(" ")
        if len(parts) == 3 and parts[0] in _METHODS and text.split() == parts:
            return parts[0], parts[1], parts[2] if parts[2] != "-" else None
    m = _REQUEST_LINE.match(text) if text else None
    if m is None:
        return None, None, None
    method, url, protocol = m.groups()
    return method, url, protocol if protocol != "-" else None


def quoted(name: str) -> str:
    """Regex for a double-quoted access-log field, backslash escapes allowed, captured as `name`.

    The loop is unrolled (runs of plain characters, then one escape at a time): `(?:[^"\\]|\\.)*`
    matched the same strings but kept one backtracking frame per character, about 240 bytes
    each, so a 10 MB line took gigabytes."""
    return rf'"(?P<{name}>[^"\\]*(?:\\.[^"\\]*)*)"'


_BYTE_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})|\\(.)", re.DOTALL)
# Apache's ap_escape_logitem writes these C escapes for whitespace (mod_log_config,
# "Security Considerations"); any other escaped character stands for itself (`\"`, `\\`).
_C_ESCAPES = {"n": b"\n", "t": b"\t", "r": b"\r", "v": b"\v", "b": b"\b", "f": b"\f"}


def unescape(value: str) -> str:
    """Undoes access-log escaping (Apache `\\"`, `\\n`, `\\t`; nginx `\\x22`); bytes that are
    not UTF-8 stay `\\xHH`."""
    if "\\" not in value:
        return value
    out = bytearray()
    pos = 0
    for m in _BYTE_ESCAPE.finditer(value):
        out += value[pos : m.start()].encode("utf-8", "surrogateescape")
        if m.group(1):
            out.append(int(m.group(1), 16))
        else:
            char = m.group(2)
            out += _C_ESCAPES.get(char) or char.encode("utf-8", "surrogateescape")
        pos = m.end()
    out += value[pos:].encode("utf-8", "surrogateescape")
    return out.decode("utf-8", "backslashreplace")
