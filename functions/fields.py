"""Coercions shared by the formats: numbers, durations, addresses, URLs, escapes.

Every format hands its raw values through these, so that "200", 200 and 200.0 all become
200, and `-` placeholders, empty strings and absent fields all become None.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Any


class BadFieldError(ValueError):
    """A field we need has a type or value no reading can make sense of."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        shown = repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        super().__init__(f"{field}: expected {expected}, got {shown}")
        self.field = field


_INT_TEXT = re.compile(r"\s*-?\d{1,19}\s*\Z")


def to_int(field: str, value: Any) -> int | None:
    """200, "200", 200.0 -> 200; None, "" and "-" -> None; anything else is a BadFieldError."""
    if value is None:
        return None
    if type(value) is int:
        return value
    if isinstance(value, str):
        if value.isascii() and value.isdigit() and len(value) < 19:
            return int(value)
        if _INT_TEXT.match(value):
            return int(value)
        if value.strip() in ("", "-"):
            return None
    elif isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
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


_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*s\s*\Z")


def duration_seconds(value: Any) -> float | None:
    """A protobuf Duration as JSON ("0.012s"), loosely spaced (" 123 s "), or as an object
    ({"seconds": 1, "nanos": 344200000}) -> seconds. Other units are None: unknown, not zero."""
    if isinstance(value, str):
        m = _DURATION.match(value)
        return float(m.group(1)) if m else None
    if isinstance(value, dict):
        seconds, nanos = value.get("seconds", 0), value.get("nanos", 0)
        try:
            return float(int(seconds)) + int(nanos) / 1e9
        except (TypeError, ValueError, OverflowError):  # OverflowError: more seconds than a float holds
            return None
    return None


def number_seconds(value: str | None, scale: float = 1.0) -> float | None:
    """A plain decimal duration from an access line ("0.050", or "4" ms with scale 0.001)."""
    if value is None:
        return None
    try:
        return float(value) * scale
    except ValueError:
        return None


_IPV4 = re.compile(r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\Z")


@lru_cache(maxsize=8192)  # client and server addresses repeat: most calls are cache hits
def ip_without_port(value: str | None) -> str | None:
    """ "1.2.3.4:5678" -> "1.2.3.4", "[::1]:80" -> "::1", "::1" stays; not an IP -> None."""
    if not value:
        return None
    if _IPV4.match(value):
        return value
    if value.startswith("["):
        end = value.find("]")
        candidate = value[1:end] if end > 0 else ""
    elif value.count(":") == 1:
        candidate = value.split(":", 1)[0]
    else:
        candidate = value
    if _IPV4.match(candidate):
        return candidate
    if ":" in candidate:
        try:
            ipaddress.IPv6Address(candidate.split("%", 1)[0])
        except ValueError:
            return None
        return candidate
    return None


def host_without_port(authority: str | None) -> str | None:
    """ "example.com:8080" -> "example.com", "user@h" -> "h", "[::1]:80" -> "::1"."""
    if not authority:
        return None
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):
        end = authority.find("]")
        return authority[1:end] or None if end > 0 else None
    return authority.split(":", 1)[0] or None


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


def request_line(text: str | None) -> tuple[str | None, str | None, str | None]:
    """ "GET /a?b HTTP/1.1" -> ("GET", "/a?b", "HTTP/1.1"); "-", "" or binary junk -> Nones."""
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


_BYTE_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})|\\(.)")


def unescape(value: str) -> str:
    """Undoes access-log escaping (Apache `\\"`, nginx `\\x22`); bytes that are not UTF-8 stay `\\xHH`."""
    if "\\" not in value:
        return value
    out = bytearray()
    pos = 0
    for m in _BYTE_ESCAPE.finditer(value):
        out += value[pos : m.start()].encode("utf-8", "surrogateescape")
        out += bytes([int(m.group(1), 16)]) if m.group(1) else m.group(2).encode("utf-8", "surrogateescape")
        pos = m.end()
    out += value[pos:].encode("utf-8", "surrogateescape")
    return out.decode("utf-8", "backslashreplace")
