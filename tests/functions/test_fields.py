"""Shared coercions (functions/fields.py) and timestamps (functions/timestamps.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions import fields, timestamps
from functions.fields import BadFieldError, host_without_port, ip_without_port, split_url, to_int, unescape


@pytest.mark.parametrize(
    ("value", "ip"),
    [("203.0.113.7", "203.0.113.7"), ("203.0.113.7:60102", "203.0.113.7"), ("::1", "::1"),
     ("[2001:db8::1]:443", "2001:db8::1"), ("2001:db8::1", "2001:db8::1"), ("fe80::1%eth0", "fe80::1%eth0"),
     ("gce-internal-ip", None), ("x.x.x.x", None), ("", None), ("999.1.1.1", None)],
)  # fmt: skip
def test_ip_without_port(value: str, ip: str | None) -> None:
    assert ip_without_port(value) == ip


@pytest.mark.parametrize(
    ("url", "parts"),
    [("https://Blog.example.com:8443/a/b?c=1#frag", ("https", "Blog.example.com", "/a/b", "c=1")),
     ("http://example", ("http", "example", "/", None)),
     ("/only/path?", (None, None, "/only/path", "")),
     ("/p%20q", (None, None, "/p%20q", None)),
     ("http://[2001:db8::1]:80/x", ("http", "2001:db8::1", "/x", None)),
     ("example.com:443", (None, None, None, None)),
     ("", (None, None, None, None))],
)  # fmt: skip
def test_split_url(url: str, parts: tuple[str | None, ...]) -> None:
    assert split_url(url) == parts


def test_host_without_port_and_userinfo() -> None:
    assert host_without_port("user:pw@example.com:8080") == "example.com"


def test_to_int_refuses_what_is_not_an_integer() -> None:
    assert [to_int("f", v) for v in ("12", 12, 12.0, "-", "", None)] == [12, 12, 12, None, None, None]
    for bad in ("1.5", 1.5, True, [1], "12abc"):
        with pytest.raises(BadFieldError):
            to_int("f", bad)


def test_unescape_keeps_utf8_sequences_together() -> None:
    assert unescape('caf\\xC3\\xA9 \\"q\\" \\\\') == 'café "q" \\'


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))
def test_normalize_round_trips_any_utc_timestamp(moment: datetime) -> None:
    text = moment.isoformat().replace("+00:00", "")
    text = (text if "." in text else text + ".000000") + "123Z"  # nanoseconds are cut to micros
    assert timestamps.normalize(text) == timestamps.format_utc(moment)


@pytest.mark.parametrize("bad", ["INVALID_TIMESTAMP", "2026-02-30T00:00:00Z", "2026-11-20", 1700000000, None])
def test_normalize_refuses_invalid_timestamps(bad: object) -> None:
    assert timestamps.normalize(bad) is None


@given(
    st.lists(
        st.sampled_from(
            ["GET", "POST", "get", "G", "/", "/a?b=1", "HTTP/1.1", "-", "", " ", "\t", "\n", "\u3000", "é"]
        ),
        max_size=5,
    ).map("".join)
    | st.tuples(
        st.sampled_from(["GET", "POST", "get", "M-1", "", "GET\t"]),
        st.sampled_from(["/", "/a?b", "", "-", "/x\n", "*"]),
        st.sampled_from(["HTTP/1.1", "-", "", "x y", "HTTP/2\r"]),
    ).map(" ".join)
)
def test_request_line_reads_as_its_regex(text: str) -> None:
    """The split fast path in request_line decides nothing the regex would decide otherwise."""
    m = fields._REQUEST_LINE.match(text) if text else None
    want = (None, None, None) if m is None else (m[1], m[2], m[3] if m[3] != "-" else None)
    assert fields.request_line(text) == want
