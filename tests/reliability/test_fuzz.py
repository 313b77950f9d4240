"""Fuzzing the decode-and-parse path (functions.pipeline.process) for a fixed budget: whatever
a Pub/Sub message holds, it ends in exactly one outcome, nothing raises, and the memory one
message takes stays proportional to its size."""

from __future__ import annotations

import base64
import tracemalloc
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.message import Message
from functions.outcome import Outcome
from functions.pipeline import process
from local import entries as fx

BUDGET = settings(max_examples=500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
MEMORY_FACTOR = 50  # tracemalloc peak per example < 50x the input + a constant
MEMORY_CONSTANT = 256 * 1024
REASONS = {"no_data", "bad_base64", "too_large", "not_utf8", "not_json", "not_logentry", "bad_field"}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)
HTTP_FIELDS = ["requestMethod", "requestUrl", "requestSize", "status", "responseSize", "userAgent", "remoteIp",
               "serverIp", "referer", "latency", "protocol", "cacheHit", "cacheLookup"]  # fmt: skip
LINES = [fx.NGINX_COMBINED, fx.NGINX_MAIN, fx.INGRESS_NGINX, fx.APACHE_COMMON, fx.ENVOY_DEFAULT, fx.ISTIO_DEFAULT]


@st.composite
def logentries(draw: st.DrawFn) -> dict[str, Any]:
    """Real entries with fields replaced by anything JSON can hold, access lines spliced."""
    base: dict[str, Any] = draw(
        st.sampled_from([fx.load_balancer, fx.cloud_run, fx.app_engine, fx.cdn_hit, fx.nginx_json])
    )()
    http = base.get("httpRequest")
    if isinstance(http, dict):
        for name in draw(st.lists(st.sampled_from(HTTP_FIELDS), max_size=4)):
            http[name] = draw(json_values)
    for name in draw(
        st.lists(
            st.sampled_from(
                [
                    "timestamp",
                    "insertId",
                    "logName",
                    "resource",
                    "jsonPayload",
                    "protoPayload",
                    "httpRequest",
                    "receiveTimestamp",
                ]
            ),
            max_size=3,
        )
    ):
        base[name] = draw(json_values)
    if draw(st.booleans()):
        line = draw(st.sampled_from(LINES))
        cut = draw(st.integers(0, len(line)))
        base = fx.gke_container(line[:cut] + draw(st.text(max_size=30)) + line[cut:])
    return base


payloads = st.one_of(
    st.binary(max_size=2048),
    st.text(max_size=512).map(str.encode),
    json_values.map(orjson.dumps),
    logentries().map(orjson.dumps),
)


@pytest.fixture(scope="module", autouse=True)
def _initialised() -> None:
    """What a process loads once, on its first row (the user-agent lists, ~2 MB traced), is
    not memory a message takes: load it before measuring, as any earlier test would have."""
    for entry in (fx.load_balancer, fx.cloud_run, fx.app_engine, fx.cdn_hit, fx.nginx_json):
        process(Message(data=orjson.dumps(entry()), message_id="warm-up"), 10 * 1024 * 1024)


def check(message: Message, max_bytes: int = 10 * 1024 * 1024) -> Outcome:
    size = len(message.data or b"")
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        outcome = process(message, max_bytes)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert outcome.kind in ("http", "other", "error")
    if outcome.kind == "error":
        assert outcome.reason in REASONS and outcome.row is not None, outcome
    if outcome.kind == "http":
        assert outcome.row is not None
    assert peak < MEMORY_FACTOR * size + MEMORY_CONSTANT, f"{peak} bytes traced for a {size}-byte message"
    return outcome


@BUDGET
@given(payloads)
def test_pulled_messages_never_raise(data: bytes) -> None:
    check(Message(data=data, message_id="1", publish_time="2026-11-20T09:15:03Z"))


@BUDGET
@given(payloads, st.booleans(), st.integers(1, 4096))
def test_pushed_messages_never_raise(data: bytes, mangle: bool, max_bytes: int) -> None:
    text = base64.b64encode(data)
    if mangle and text:
        text = text[: len(text) // 2] + b"*" + text[len(text) // 2 :]
    check(Message(data=text, message_id="1", data_is_base64=True), max_bytes)


def test_large_and_deep_inputs_stay_bounded() -> None:
    big_line = fx.gke_container(fx.NGINX_COMBINED.replace("/posts/hello-world", "/" + "a" * 2_000_000))
    cases = [
        fx.data(big_line),
        b"[" * 100_000 + b"]" * 100_000,  # deeper than any JSON parser's limit
        orjson.dumps({"httpRequest": {"requestUrl": "x" * 1_000_000}, "logName": "projects/p/logs/requests"}),
        b"\xff" * 1_000_000,
    ]
    for data in cases:
        check(Message(data=data, message_id="1"))
        check(Message(data=base64.b64encode(data), message_id="1", data_is_base64=True))


def test_one_byte_over_the_limit_is_too_large_pushed_or_pulled() -> None:
    for size in (10, 11, 12, 13):
        data = b"{" * size
        pushed = process(Message(data=base64.b64encode(data), data_is_base64=True), 10)
        pulled = process(Message(data=data), 10)
        expected = "too_large" if size > 10 else "not_json"
        assert (pushed.reason, pulled.reason) == (expected, expected), size
