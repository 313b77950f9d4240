"""The LogEntry httpRequest field (functions/formats/http_request.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.fields import BadFieldError
from functions.formats import http_request


def test_empty_http_request_is_no_request() -> None:
    assert http_request.parse({}) is None
    assert http_request.parse(None) is None


def test_status_only_is_a_request() -> None:
    row = http_request.parse({"status": 404})
    assert row is not None
    assert (row["status"], row["method"]) == (404, None)


@pytest.mark.parametrize(
    "bad", [{"status": "teapot"}, {"status": True}, {"requestUrl": ["/"]}, {"status": 200, "cacheHit": "yes"}]
)
def test_unreadable_values_raise_bad_field(bad: dict[str, object]) -> None:
    with pytest.raises(BadFieldError):
        http_request.parse(bad)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
keys = st.sampled_from(["requestMethod", "requestUrl", "status", "responseSize", "latency", "remoteIp", "cacheHit"])


@given(st.dictionaries(keys, json_values))
def test_any_field_values_give_a_row_none_or_bad_field(value: dict[str, object]) -> None:
    try:
        row = http_request.parse(value)
    except BadFieldError:
        return
    assert row is None or row["source"] == "httpRequest"
