"""The functions' own log lines (sinks/logs.py): one strict JSON line each, the fields Cloud
Logging reads, the label the sink filter excludes, and the request's trace."""

from __future__ import annotations

import logging
import sys

import orjson
import pytest

from sinks import logs


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
         logs.Trace("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", True)),
        ({"x-cloud-trace-context": "105445aa7843bc8bf206b12000100000/1;o=1"},
         logs.Trace("105445aa7843bc8bf206b12000100000", "0000000000000001", True)),
        ({"x-cloud-trace-context": "105445AA7843BC8BF206B12000100000"},
         logs.Trace("105445aa7843bc8bf206b12000100000", None, None)),
        ({"x-cloud-trace-context": "105445aa7843bc8bf206b12000100000/18446744073709551615;o=0"},
         logs.Trace("105445aa7843bc8bf206b12000100000", "ffffffffffffffff", False)),
        ({"traceparent": "00-00000000000000000000000000000000-b7ad6b7169203331-01"}, None),
        ({"traceparent": "garbage", "x-cloud-trace-context": "nope/1"}, None),
        ({}, None),
    ],
)  # fmt: skip
def test_trace_from_the_headers_cloud_run_passes(headers: dict[str, str], expected: logs.Trace | None) -> None:
    assert logs.trace_of(headers) == expected


def _record(name: str, level: int, message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, message, None, None)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_record_is_one_json_line_with_cloud_loggings_fields() -> None:
    trace = logs.Trace("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", True)
    record = _record("logexport.drain", logging.ERROR, "drain failed\nat pull", fields={"acked": 3}, trace=trace)
    line = logs.format_record(record, "ingest", "blog-prod-123")
    assert "\n" not in line
    entry = orjson.loads(line)
    assert entry == {
        "severity": "ERROR",
        "message": "drain failed\nat pull",
        "acked": 3,
        "logging.googleapis.com/trace": "projects/blog-prod-123/traces/0af7651916cd43dd8448eb211c80319c",
        "logging.googleapis.com/spanId": "b7ad6b7169203331",
        "logging.googleapis.com/trace_sampled": True,
        "logging.googleapis.com/labels": {"logexport_component": "drain"},  # from the logger's name
        "logger": "logexport.drain",
    }


def test_other_loggers_carry_the_process_component_and_exceptions_stay_on_one_line() -> None:
    try:
        raise ValueError("inner")
    except ValueError:
        record = _record("sinks.retry", logging.WARNING, "attempt 1 failed", exc_info=sys.exc_info())
    entry = orjson.loads(logs.format_record(record, "ingest", None))
    assert entry["logging.googleapis.com/labels"] == {"logexport_component": "ingest"}
    assert "ValueError: inner" in entry["message"] and "logging.googleapis.com/trace" not in entry


def test_configure_installs_one_handler_and_the_level(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        logs.configure("WARNING", "p")
        logs.configure("INFO", "p")
        assert sum(isinstance(h, logs.JsonLinesHandler) for h in root.handlers) == 1
        log = logging.getLogger("logexport.ingest")
        logs.log(log, logging.DEBUG, "not shown", message_id="1")
        logs.log(log, logging.INFO, "shown", message_id="2")
        lines = [orjson.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [(e["message"], e["message_id"]) for e in lines] == [("shown", "2")]
    finally:
        root.handlers = before
