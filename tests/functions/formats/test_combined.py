"""Common/combined access lines and their extensions (functions/formats/combined.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.formats import combined
from tests.functions import fixtures as fx


def test_combined_line() -> None:
    row = combined.parse(fx.NGINX_COMBINED)
    assert row is not None
    assert (row["method"], row["url"], row["protocol"], row["status"]) == ("GET", "/posts/hello-world", "HTTP/1.1", 200)
    assert row["user_agent"] == "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"


def test_escaped_quotes_in_user_agent_are_unescaped() -> None:
    # Apache escapes `"` as `\"` (mod_log_config "Security Considerations"); nginx as `\x22`.
    apache = fx.NGINX_COMBINED.replace('"Mozilla/5.0 (Windows', '"Mozilla/5.0 \\"quoted\\" (Windows')
    nginx = fx.NGINX_COMBINED.replace('"Mozilla/5.0 (Windows', '"Mozilla/5.0 \\x22quoted\\x22 (Windows')
    for line in (apache, nginx):
        row = combined.parse(line)
        assert row is not None
        assert row["user_agent"] == 'Mozilla/5.0 "quoted" (Windows NT 10.0; Win64; x64) AppleWebKit/537.36'


@pytest.mark.parametrize(
    "request_field",
    ['"-"', '""', '"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xFC\\x03\\x03"'],
    ids=["dash", "empty", "tls-handshake"],
)
def test_empty_and_binary_request_lines_keep_status_but_no_request(request_field: str) -> None:
    line = f'203.0.113.50 - - [20/Nov/2026:09:15:02 +0000] {request_field} 400 157 "-" "-"'
    row = combined.parse(line)
    assert row is not None
    assert (row["method"], row["url"], row["path"], row["status"], row["user_agent"]) == (None, None, None, 400, None)


def test_dash_size_and_status_are_null() -> None:
    row = combined.parse('192.0.2.1 - - [20/Nov/2026:09:15:02 +0000] "OPTIONS * HTTP/1.1" - -')
    assert row is not None
    assert (row["status"], row["response_size"], row["path"]) == (None, None, "*")


def test_ipv6_client_and_absolute_target() -> None:
    row = combined.parse(
        '2001:db8::9 - - [20/Nov/2026:09:15:02 +0000] "GET http://proxy.example.com:8080/a?b=1 HTTP/1.1" 200 1'
    )
    assert row is not None
    assert (row["remote_ip"], row["host"], row["path"], row["query"]) == (
        "2001:db8::9",
        "proxy.example.com",
        "/a",
        "b=1",
    )


def test_hostname_client_is_not_an_ip() -> None:
    row = combined.parse(fx.APACHE_COMMON.replace("192.0.2.1", "crawler.example.net"))
    assert row is not None
    assert row["remote_ip"] is None


@pytest.mark.parametrize(
    "line",
    [fx.NGINX_ERROR, '- - - [-] "-" - -', "not a common log line", "", "[20/Nov/2026:09:15:02 +0000] [core:alert]"],
)
def test_lines_that_are_not_access_lines(line: str) -> None:
    assert combined.parse(line) is None


@given(
    ip=st.ip_addresses().map(str),
    method=st.sampled_from(["GET", "POST", "HEAD", "PROPFIND"]),
    path=st.text(alphabet="abcxyz0129/%-._~", min_size=0, max_size=40).map(lambda p: "/" + p),
    status=st.integers(100, 599),
    size=st.integers(0, 10**12),
    agent=st.text(alphabet=st.characters(blacklist_characters='"\\', blacklist_categories=("Cs", "Cc")), max_size=60),
)
def test_round_trip_of_generated_combined_lines(
    ip: str, method: str, path: str, status: int, size: int, agent: str
) -> None:
    line = f'{ip} - - [20/Nov/2026:09:15:02 +0000] "{method} {path} HTTP/1.1" {status} {size} "-" "{agent}"'
    row = combined.parse(line)
    assert row is not None
    assert (row["remote_ip"], row["method"], row["url"], row["status"], row["response_size"]) == (
        ip, method, path, status, size,
    )  # fmt: skip
    assert row["user_agent"] == (agent if agent not in ("", "-") else None)


@given(st.text(max_size=300))
def test_any_text_parses_or_returns_none(line: str) -> None:
    row = combined.parse(line)
    assert row is None or row["source"] in ("common", "combined", "ingress-nginx")
