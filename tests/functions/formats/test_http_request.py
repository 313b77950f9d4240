"""The LogEntry httpRequest field (functions/formats/http_request.py): wrong kinds and properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.fields import BadFieldError
from functions.formats import http_request, json_record


@pytest.mark.parametrize(
    "bad", [{"status": "teapot"}, {"status": True}, {"requestUrl": ["/"]}, {"status": 200, "cacheHit": "yes"}, "GET /"]
)
def test_values_of_the_wrong_kind_raise_bad_field(bad: object) -> None:
    with pytest.raises(BadFieldError):
        http_request.parse(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
keys = st.sampled_from(["requestMethod", "requestUrl", "status", "responseSize", "latency", "remoteIp", "cacheHit"])


@given(st.dictionaries(keys, json_values))
def test_any_field_values_give_fields_none_or_bad_field(value: dict[str, object]) -> None:
    try:
        row = http_request.parse(value)
    except BadFieldError:
        return
    assert row is None or row["source"] == "httpRequest"


nginx_keys = st.sampled_from(["request", "request_method", "request_uri", "status", "host", "http_host",
                              "remote_addr", "request_time", "body_bytes_sent", "httpRequest", "requestUrl"])  # fmt: skip


@given(st.dictionaries(nginx_keys, json_values))
def test_any_json_record_gives_fields_none_or_bad_field(record: dict[str, object]) -> None:
    try:
        row = json_record.parse(record)
    except BadFieldError:
        return
    assert row is None or row["source"] == "json"
