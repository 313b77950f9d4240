"""Common/combined access lines (functions/formats/combined.py): properties; the cases are its EXAMPLES."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from functions.formats import combined


@given(
    ip=st.ip_addresses().map(str),
    prefix=st.sampled_from(["", "blog.example.com:443 ", "[2001:db8::1]:8443 ", "info: [web] ", "stdout F "]),
    method=st.sampled_from(["GET", "POST", "HEAD", "PROPFIND"]),
    path=st.text(alphabet="abcxyz0129/%-._~", min_size=0, max_size=40).map(lambda p: "/" + p),
    status=st.integers(100, 599),
    size=st.integers(0, 2**63 - 1),
    extra=st.sampled_from(["", " 1043", " 0.003"]),
    agent=st.text(alphabet=st.characters(blacklist_characters='"\\', blacklist_categories=("Cs", "Cc")), max_size=60),
)
def test_round_trip_of_generated_combined_lines(
    ip: str, prefix: str, method: str, path: str, status: int, size: int, extra: str, agent: str
) -> None:
    line = (
        f'{prefix}{ip} - - [20/Nov/2026:09:15:02 +0000] "{method} {path} HTTP/1.1" {status} {size}{extra} "-" "{agent}"'
    )
    row = combined.parse_line(line)
    assert row is not None
    assert (row["remote_ip"], row["method"], row["url"], row["status"], row["response_size"]) == (
        ip, method, path, status, size,
    )  # fmt: skip
    assert row["user_agent"] == (agent if agent not in ("", "-") else None)
    assert row["host"] == {"blog.example.com:443 ": "blog.example.com", "[2001:db8::1]:8443 ": "2001:db8::1"}.get(
        prefix
    )


@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=60))
def test_apache_escapes_round_trip(agent: str) -> None:
    """Apache escapes `"` and `\\` with a backslash and whitespace controls C-style (mod_log_config)."""
    c_style = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\v": "\\v", "\b": "\\b"}
    escaped = "".join(
        c_style.get(ch, ch if ch.isprintable() else f"\\x{ord(ch):02x}")
        for ch in agent
        if ord(ch) < 128 or ch.isprintable()
    )
    kept = "".join(ch for ch in agent if ord(ch) < 128 or ch.isprintable())
    row = combined.parse_line(f'1.2.3.4 - - [20/Nov/2026:09:15:02 +0000] "GET / HTTP/1.1" 200 1 "-" "{escaped}"')
    assert row is not None
    assert row["user_agent"] == (kept if kept not in ("", "-") else None)


@given(st.text(max_size=300))
def test_any_text_parses_or_returns_none(line: str) -> None:
    row = combined.parse_line(line)
    assert row is None or row["source"] in ("common", "combined", "ingress-nginx")
