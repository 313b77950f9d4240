"""Envoy and Istio default access formats (functions/formats/envoy.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from functions.formats import envoy
from tests.functions import fixtures as fx


def test_envoy_default_takes_the_client_from_x_forwarded_for() -> None:
    row = envoy.parse(fx.ENVOY_DEFAULT)
    assert row is not None
    assert (row["remote_ip"], row["host"], row["latency_seconds"], row["protocol"]) == (
        "203.0.113.9", "shop.example.com", 0.012, "HTTP/1.1",
    )  # fmt: skip


def test_istio_takes_the_downstream_remote_address_without_port() -> None:
    row = envoy.parse(fx.ISTIO_DEFAULT)
    assert row is not None
    assert (row["remote_ip"], row["status"], row["response_size"], row["request_size"]) == ("10.44.1.23", 418, 135, 0)


def test_reset_connection_has_no_status_and_dash_fields() -> None:
    line = '[2026-11-20T09:15:02.123Z] "- - -" 0 UF 0 0 1 - "-" "-" "-" "-" "10.4.0.12:8080"'
    row = envoy.parse(line)
    assert row is not None
    assert (row["method"], row["status"], row["remote_ip"], row["host"]) == (None, None, None, None)


def test_combined_lines_are_not_envoy() -> None:
    assert envoy.parse(fx.NGINX_COMBINED) is None


@given(st.text(max_size=300))
def test_any_text_parses_or_returns_none(line: str) -> None:
    row = envoy.parse(line)
    assert row is None or row["source"] == "envoy"
