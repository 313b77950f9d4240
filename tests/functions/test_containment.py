"""Per-message containment (functions/pipeline.py): whatever raises while one message becomes an
outcome, that message gets an `internal_error` row with its payload byte for byte, and nothing
escapes to fail the batch it came in.

A few tests make a parser raise on purpose (monkeypatch): no input makes today's parsers raise
once they are fixed, and containment must hold for the bug nobody has found yet.
"""

from __future__ import annotations

import base64

import orjson
import pytest

from functions import logentry, pipeline, user_agent
from functions.message import Message
from functions.outcome import INTERNAL_ERROR
from functions.schema import HTTP_REQUESTS
from local import entries as fx
from tests.functions.bigquery_values import problems

# A GKE container whose app logs structured JSON with an httpRequest (Cloud Logging's
# structured-logging convention, cloud.google.com/logging/docs/structured-logging), its latency
# written as a protobuf Duration object whose `seconds` is a 400-digit string.
POISON_LATENCY = {"seconds": "9" * 400, "nanos": 0}


def poison_entry() -> dict[str, object]:
    entry = fx.gke_container("", container="app")
    del entry["textPayload"]
    entry["jsonPayload"] = {
        "message": "request served",
        "httpRequest": {"requestMethod": "GET", "requestUrl": "/healthz", "status": 200, "latency": POISON_LATENCY},
    }
    return entry


def test_a_400_digit_duration_gives_one_outcome_instead_of_an_exception() -> None:
    outcome = pipeline.process(fx.pushed(poison_entry()))
    assert outcome.kind in ("http", "error")
    assert outcome.row is not None
    orjson.dumps(outcome.row)


def _boom(entry: object) -> None:
    raise RuntimeError("boom\nsecond line is not kept")


def test_an_exception_while_parsing_becomes_an_internal_error_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(user_agent, "columns", _boom)  # on both readers' way (fast path and general)
    data = fx.data(fx.load_balancer())
    outcome = pipeline.process(Message(data=data, message_id="m-9", publish_time="2026-11-20T09:15:03Z"))
    assert (outcome.kind, outcome.reason) == ("error", INTERNAL_ERROR)
    assert outcome.payload == data
    row = outcome.row
    assert row is not None
    assert (row["reason"], row["stage"], row["message_id"]) == (INTERNAL_ERROR, "parse", "m-9")
    assert row["message"].startswith("RuntimeError: boom (at ")
    assert "second line" not in row["message"]
    assert "test_containment.py" in row["message"]  # where it was raised
    assert base64.b64decode(row["payload_bytes"]) == data


def test_an_exception_while_decoding_keeps_the_raw_data(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes) -> bytes:
        raise MemoryError("no room")

    monkeypatch.setattr(pipeline, "_b64decode", broken)
    message = fx.pushed(fx.load_balancer())
    outcome = pipeline.process(message)
    assert (outcome.reason, outcome.row and outcome.row["stage"]) == (INTERNAL_ERROR, "decode")
    assert outcome.payload == message.data  # the base64 text as it arrived


def test_raw_lines_are_contained_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logentry, "find_request", _boom)
    entry = {"textPayload": fx.NGINX_COMBINED}
    outcome = pipeline.classify(Message(data=fx.NGINX_COMBINED.encode()), orjson.dumps(entry), entry)
    assert (outcome.kind, outcome.reason) == ("error", INTERNAL_ERROR)


def test_a_row_bigquery_could_not_take_is_contained() -> None:
    """An INT64 column below INT64's range cannot even be serialised; whatever value rule reads
    it, the outcome must be one BigQuery takes."""
    entry = fx.load_balancer()
    entry["httpRequest"]["responseSize"] = "-9999999999999999999"
    outcome = pipeline.process(fx.pushed(entry))
    assert outcome.row is not None
    assert problems(HTTP_REQUESTS, outcome.row) == []
    orjson.dumps(outcome.row)


def test_keyboard_interrupt_is_not_swallowed(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(entry: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(user_agent, "columns", interrupted)
    with pytest.raises(KeyboardInterrupt):
        pipeline.process(fx.pushed(fx.load_balancer()))
