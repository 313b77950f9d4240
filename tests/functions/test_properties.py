"""Whatever arrives, exactly one outcome and no exception (functions/pipeline.py)."""

from __future__ import annotations

import base64

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.message import Message
from functions.pipeline import process
from local import entries as fx

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
entry_keys = st.sampled_from(
    [
        "logName",
        "resource",
        "timestamp",
        "httpRequest",
        "textPayload",
        "jsonPayload",
        "protoPayload",
        "labels",
        "insertId",
    ]
)


def _check(message: Message) -> None:
    outcome = process(message)
    assert outcome.kind in ("http", "other", "error")
    assert (outcome.row is None) == (outcome.kind == "other")
    assert (outcome.reason is not None) == (outcome.kind == "error")
    if outcome.kind != "error":
        assert outcome.event_time
    orjson.dumps(outcome.row)  # rows always serialise


@given(st.binary(max_size=400), st.booleans())
def test_any_bytes(data: bytes, as_base64: bool) -> None:
    _check(Message(data=data, data_is_base64=as_base64))


@given(json_values)
def test_any_json_value(value: object) -> None:
    _check(Message(data=base64.b64encode(orjson.dumps(value)), data_is_base64=True))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(entry_keys, json_values, min_size=1))
def test_any_logentry_shaped_object(entry: dict[str, object]) -> None:
    _check(fx.pushed(entry))


@given(st.sampled_from(["httpRequest", "resource", "labels", "timestamp", "textPayload"]), json_values)
def test_any_value_in_a_real_entry(field: str, value: object) -> None:
    _check(fx.pushed(fx.variant(fx.load_balancer(), **{field: value})))
