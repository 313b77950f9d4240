"""Envoy and Istio access lines and JSON records (functions/formats/envoy.py, envoy_json.py): properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from functions.fields import BadFieldError
from functions.formats import envoy, envoy_json
from tests.functions.formats.test_http_request import json_values


@given(st.text(max_size=300))
def test_any_text_parses_or_returns_none(line: str) -> None:
    row = envoy.parse_line(line)
    assert row is None or row["source"] == "envoy"


keys = st.sampled_from(["response_code", "method", "path", ":authority", "authority", "duration", "bytes_sent",
                        "x_forwarded_for", "x-forwarded-for", "downstream_remote_address", "upstream_host"])  # fmt: skip


@given(st.dictionaries(keys, json_values))
def test_any_json_record_gives_fields_none_or_bad_field(record: dict[str, object]) -> None:
    try:
        row = envoy_json.parse(record)
    except BadFieldError:
        return
    assert row is None or row["source"] == "envoy"
