"""The typed fast path (functions/fast_path.py) decides nothing the general path would decide
otherwise: for every input it takes, its outcome equals `pipeline.read`'s, row and column
order included; what it does not take, it hands back (None).

Inputs: every format's example inside a LogEntry, the same with every hostile value at every
place (tests/functions/test_row_values.py) and every field removed, JSON that orjson and
msgspec read differently, and hypothesis's values and byte mutations of real entries.
"""

from __future__ import annotations

import contextlib
import copy
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions import fast_path, pipeline, timestamps
from functions.message import Message
from local import entries as fx
from tests.functions.formats.test_examples import EXAMPLES, as_logentry
from tests.functions.test_properties import json_values
from tests.functions.test_row_values import HOSTILE_SCALARS, HOSTILE_STRUCTURES, _leaves, _replace

PUBLISH_TIMES = [None, "2026-11-20T09:15:03.123456789Z", "2026-11-20T10:15:03+01:00", "not a time"]


@pytest.fixture(autouse=True)
def _fixed_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry with no valid time takes the processing time: the same for both paths here."""
    monkeypatch.setattr(timestamps, "now", lambda: "2026-11-20T09:16:00.000000Z")


def _same(data: bytes, publish_time: str | None = "2026-11-20T09:15:03Z") -> bool:
    """Whether the fast path took `data`; fails when it took it differently."""
    message = Message(data=data, message_id="m-1", publish_time=publish_time)
    fast = fast_path.outcome(message, data)
    if fast is None:
        return False
    general = pipeline.read(message, data)
    assert fast == general, data
    assert list(fast.row or ()) == list(general.row or ())  # the CLI prints columns in schema order
    return True


def _entries() -> Iterator[dict[str, Any]]:
    for _, example in EXAMPLES:
        yield as_logentry(example)
    yield fx.load_balancer()
    yield fx.cdn_hit()


# Examples whose values are of other types than proto3 JSON gives them: the general path's.
_GENERAL = {"strings-and-floats-are-numbers", "duration-object-and-unknown-unit", "unrepresentable-values-are-null"}


def test_the_common_shapes_take_the_fast_path() -> None:
    """Cloud Logging's own entries (load balancer, CDN, Cloud Run) and every access line or JSON
    record in a payload; App Engine's and audit logs' protoPayload take the general path."""
    taken = {"lb": _same(orjson.dumps(fx.load_balancer())), "cdn": _same(orjson.dumps(fx.cdn_hit()))}
    for module, example in EXAMPLES:
        if module != "appengine" and example.name not in _GENERAL:
            taken[f"{module}:{example.name}"] = _same(orjson.dumps(as_logentry(example)))
    assert [name for name, took in taken.items() if not took] == []


def test_every_example_with_each_publish_time() -> None:
    for entry in _entries():
        for publish_time in PUBLISH_TIMES:
            _same(orjson.dumps(entry), publish_time)


def test_every_hostile_value_and_every_removal_at_every_path() -> None:
    taken = 0
    for entry in _entries():
        for path in _leaves(entry):
            for new in HOSTILE_SCALARS + HOSTILE_STRUCTURES:
                mutated = copy.deepcopy(entry)
                _replace(mutated, path, new)
                with contextlib.suppress(ValueError):  # NaN and infinities are not JSON
                    taken += _same(json.dumps(mutated, allow_nan=False).encode())
            removed = copy.deepcopy(entry)
            _replace(removed, path, None)
            parent = removed
            for step in path[:-1]:
                parent = parent[step]
            if isinstance(parent, dict):
                del parent[path[-1]]
                taken += _same(json.dumps(removed).encode())
    assert taken > 1000  # the comparison ran: most of these stay in the common shape


_LB = orjson.dumps(fx.load_balancer()).decode()
_PAYLOAD = '"statusDetails":"response_sent_by_backend"'


@pytest.mark.parametrize(
    "text",
    [
        _LB.replace(_PAYLOAD, _PAYLOAD + ',"n":1e400'),  # orjson: not JSON (infinity)
        _LB.replace(_PAYLOAD, _PAYLOAD + ',"n":' + "9" * 400),
        _LB.replace(_PAYLOAD, _PAYLOAD + ',"n":18446744073709551616'),  # orjson: a float
        _LB.replace(_PAYLOAD, _PAYLOAD + ',"n":-9223372036854775809'),
        _LB.replace(_PAYLOAD, _PAYLOAD + ',"n":[[[[1]]]]'),  # deeper than the typed payload
        _LB.replace(_PAYLOAD, _PAYLOAD + ',"n":"\\ud800"'),  # a lone surrogate
        _LB.replace(_PAYLOAD, _PAYLOAD + ',"n":"caf\u00e9"'),
        _LB.replace(_PAYLOAD, _PAYLOAD + ',"n":"\udcff"'),  # invalid UTF-8 once encoded
        _LB.replace('"Go-http-client/1.1"', '"Go\udcff"'),
        _LB.replace('"Go-http-client/1.1"', '"Go\ud800\udc00"'),  # a surrogate pair encoded one by one
        _LB.replace('"zone":"global"', '"zone":"\udcc3"'),  # inside the cached resource JSON
        _LB[:-1] + ',"operation":{"id":"x","n":1e400}}',  # raw JSON msgspec skipped
        _LB[:-1] + ',"sourceLocation":{"file":"a.go","line":"12"}}',
        _LB[:-1] + ',"httpRequest":{"status":500}}',  # a duplicate key: the last one counts
        _LB[:-1] + ',"resource":{"type":"x","labels":{"a":"1","a":"2"}}}',
        _LB[:-1] + ',"newField":1}',  # a field the fast path does not know
        _LB.replace('"status":', '"status":200,"status":'),
        _LB.replace('"status":200', '"status":200.0'),
        _LB.replace('"status":200', '"status":9223372036854775808'),
        _LB.replace('"requestMethod":"GET"', '"requestMethod":"G\\u0045T"'),
        _LB.replace('"requestMethod":"GET"', '"requestMethod":"\\u0663"'),
        _LB.replace('"latency":"0.012345s"', '"latency":"\\u0661.5s"'),
        _LB.replace('"responseSize":"26020"', '"responseSize":"\\uff12"'),
        _LB.replace('"2026-11-20T09:15:02.123456789Z"', '"2026-11-20T09:15:02.12345678\\u0669Z"'),
        _LB.replace('"INFO"', "null").replace('"insertId":"1a2b3c4d5e6f"', '"insertId":"-"'),
        '{"trace":"x","spanId":"y"}',  # no LogEntry field: not a LogEntry
        '{"jsonPayload":null}',
        '{"textPayload":null,"httpRequest":{}}',
        "  " + _LB + "\n",
    ],
)
def test_json_read_differently_by_orjson_and_msgspec(text: str) -> None:
    _same(text.encode("utf-8", "surrogatepass"))


@pytest.mark.parametrize("depth", [1022, 1023, 1024])
def test_orjson_depth_limit_counts_from_the_top(depth: int) -> None:
    """msgspec skips any depth once Python's recursion limit allows it; orjson's limit (1024
    levels) counts from the message's top, not from the skipped value."""
    with _recursion_limit(10_000):
        _same((_LB[:-1] + ',"sourceLocation":' + "[" * depth + "]" * depth + "}").encode())


@contextmanager
def _recursion_limit(limit: int) -> Iterator[None]:
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(_entries())), st.data())
def test_any_value_anywhere(entry: dict[str, Any], data: st.DataObject) -> None:
    entry = copy.deepcopy(entry)
    path = data.draw(st.sampled_from(_leaves(entry)), label="path")
    _replace(entry, path, data.draw(json_values, label="value"))
    _same(orjson.dumps(entry))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([orjson.dumps(e) for e in _entries()]), st.data())
def test_any_byte_mutation(original: bytes, data: st.DataObject) -> None:
    at = data.draw(st.integers(0, len(original) - 1), label="at")
    cut = data.draw(st.integers(0, 8), label="cut")
    inserted = data.draw(st.binary(max_size=8) | st.sampled_from([b"1e999", b"\\ud800", b"\xff", b"null", b"{}"]))
    _same(original[:at] + inserted + original[at + cut :])
