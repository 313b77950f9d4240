"""Rows are valid by construction: hostile values anywhere in any format's example entry give a
row BigQuery accepts (checked against functions/schema.py), `other`, or a `bad_field` error.

The value rule (README): a value of the right kind that its column cannot hold becomes NULL
and the row is kept; a value of the wrong kind is `bad_field`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.formats.example import Example
from functions.message import Message
from functions.pipeline import process
from functions.schema import ERRORS, HTTP_REQUESTS
from tests.functions.bigquery_values import problems
from tests.functions.formats.test_examples import EXAMPLES, as_logentry


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"k": value}
    return value


HOSTILE_SCALARS: list[Any] = [
    2**63, 2**63 - 1, 2**64, -(2**63) - 1, 10**30, -1, 0, 1e308, -1e308, 1e-320, -0.0, 1.5, True, False, None,
    "99999999999999999999", "9223372036854775808", "-1", "-0", "1e400", "NaN", "inf", "-inf", "0x10", " 12 ",
    "\uff11\uff12", "\u0661\u0662", "1_000", "", "-", "\x00", "\\x00", "\ufffd", "e\u0301", "\U0001f600" * 3,
    "9999-12-31T23:59:59.999999999-23:59", "0001-01-01T00:00:00+00:01", "0000-01-01T00:00:00Z",
    "2026-11-20T10:15:02+99:99", "2026-02-29T12:00:00Z", "2026-11-20T10:15:60Z", "2026-11-20",
    "-5s", "1e400s", "99999999999999999999.5s", ".s", "0.000000001s", "[2001:db8::1]:443", "[", "]:", ":::::",
    "1.2.3.4:99999", "fe80::1%eth0", "999.1.1.1", "[::1", "user@[::1]:80", "http://[::1", "//x", "?", "#",
    "a" * 5000, "GET", "GET / HTTP/1.1", "\\n", "\n", "\t",
]  # fmt: skip
HOSTILE_STRUCTURES: list[Any] = [
    {}, [], [1], {"seconds": 10**30, "nanos": -1}, {"seconds": "x"}, {"seconds": -5}, {"nanos": 2**70},
    _deep(300), [[[[]]]],
]  # fmt: skip
# Words that replace a token of an access line: numbers, times and addresses out of range.
HOSTILE_TOKENS = [
    "99999999999999999999", "9223372036854775808", "-1", "1e999", "NaN", "999", "[2001:db8::1]:99999",
    "[99/Xyz/2026:25:61:61 +9999]", "[31/Feb/2026:00:00:00 +0000]", "[01/Jan/0001:00:00:00 +0001]",
    "[31/Dec/9999:23:59:59 -0001]", '"\\n"', '"\\x00\\xff"', "-", '"', "\\",
]  # fmt: skip


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in a JSON value, containers included (a whole object can be replaced too)."""
    paths = [path] if path else []
    if isinstance(value, dict):
        for key, child in value.items():
            paths += _leaves(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            paths += _leaves(child, (*path, i))
    return paths


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> None:
    for step in path[:-1]:
        value = value[step]
    value[path[-1]] = new


def _check(data: bytes) -> None:
    outcome = process(Message(data=data, message_id="m-1", publish_time="2026-11-20T09:15:03Z"))
    if outcome.kind == "http":
        assert outcome.row is not None
        assert problems(HTTP_REQUESTS, outcome.row) == []
    elif outcome.kind == "error":
        assert outcome.reason in ("bad_field", "not_json", "not_logentry"), outcome.detail
        assert outcome.row is not None
        assert problems(ERRORS, outcome.row) == []


def _mutated(example: Example, path: tuple[Any, ...], new: Any) -> bytes | None:
    entry = as_logentry(example)
    _replace(entry, path, new)
    try:
        return json.dumps(entry, allow_nan=False).encode()
    except ValueError:  # NaN and infinities are not JSON: no producer can send them
        return None


@pytest.mark.parametrize(("module", "example"), EXAMPLES, ids=[f"{m}:{e.name}" for m, e in EXAMPLES])
def test_every_hostile_value_at_every_path(module: str, example: Example) -> None:
    """Exhaustive over the curated values: each one at each place of the example's LogEntry."""
    for path in _leaves(as_logentry(example)):
        for new in HOSTILE_SCALARS + HOSTILE_STRUCTURES:
            data = _mutated(example, path, new)
            if data is not None:
                _check(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([e for _, e in EXAMPLES]), st.data())
def test_any_number_or_text_anywhere(example: Example, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(_leaves(as_logentry(example))), label="path")
    new = data.draw(st.integers() | st.floats(allow_nan=False) | st.text(max_size=40), label="value")
    encoded = _mutated(example, path, new)
    if encoded is not None:
        _check(encoded)


@pytest.mark.parametrize("example", [e for _, e in EXAMPLES if "textPayload" in e.entry], ids=lambda e: e.name)
def test_every_hostile_token_in_every_access_line(example: Example) -> None:
    line = as_logentry(example)["textPayload"]
    tokens = line.split(" ")
    for where in range(len(tokens)):
        for token in HOSTILE_TOKENS:
            entry = as_logentry(example)
            entry["textPayload"] = " ".join([*tokens[:where], token, *tokens[where + 1 :]])
            _check(json.dumps(entry).encode())


def test_the_hostile_values_reach_every_column() -> None:
    """Every column of http_requests takes a hostile value through some example field: the
    examples fill every request column (test_examples.py) and the LogEntry wrapper every
    metadata column, so this fails only when a new column is filled from nowhere the
    examples reach."""
    reached: set[str] = set()
    for _, example in EXAMPLES:
        outcome = process(Message(data=json.dumps(as_logentry(example)).encode(), publish_time="2026-11-20T09:15:03Z"))
        if outcome.row is not None and outcome.kind == "http":
            reached |= {k for k, v in outcome.row.items() if v is not None}
    assert set(HTTP_REQUESTS.column_names) - reached == {"message_id"}  # from the delivery, not the entry
