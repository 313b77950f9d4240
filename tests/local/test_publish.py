"""`make publish` payloads (local/publish.py): what each line of a user's file becomes."""

from __future__ import annotations

import orjson

from functions.message import Message
from functions.pipeline import process
from local import entries as fx
from local.publish import as_payload


def test_an_access_line_lands_at_its_own_time_in_utc() -> None:
    payload = as_payload(fx.APACHE_COMMON.encode(), 7, "access.log")
    entry = orjson.loads(payload)
    assert (entry["timestamp"], entry["insertId"]) == ("2026-10-10T20:55:36.000000Z", "access.log-7")
    outcome = process(Message(data=payload))
    assert outcome.row is not None
    assert (outcome.kind, outcome.row["timestamp"], outcome.event_time) == (
        "http",
        entry["timestamp"],
        entry["timestamp"],
    )


def test_a_line_without_a_time_of_its_own_takes_the_time_it_was_read() -> None:
    entry = orjson.loads(as_payload(b"listening on :8080", 1, "app.log"))
    assert entry["timestamp"] == entry["receiveTimestamp"]


def test_a_logentry_line_is_sent_as_it_is() -> None:
    line = fx.data(fx.load_balancer())
    assert as_payload(line + b"  ", 1, "entries.ndjson") == line
