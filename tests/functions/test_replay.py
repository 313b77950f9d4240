"""Replay's pure core: archive object names, one archived line -> the live pipeline's outcome, days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions import __main__ as cli
from functions import pipeline
from functions.message import Message
from functions.replay import (
    ArchiveObject,
    DayReplay,
    ReplayError,
    archive_lines,
    archive_object,
    days_between,
    open_days,
    replay_line,
)
from local import entries as fx
from sinks.archive import log_dir, plan

SOURCE = ArchiveObject("gs://b/logs/requests/dt=2026-11-20/hour=09/abc.ndjson.gz", "requests", "2026-11-20", "09")


def test_object_names_the_archiver_writes_are_read_back() -> None:
    entries = [
        fx.load_balancer(),
        fx.cloud_run(),
        fx.variant(fx.load_balancer(), logName="projects/p/logs/" + "a" * 300),
    ]
    outcomes = [pipeline.process(Message(orjson.dumps(e), message_id=str(i))) for i, e in enumerate(entries)]
    outcomes.append(pipeline.process(Message(b"not json", message_id="x", publish_time="2026-11-20T09:00:00Z")))
    names = [obj.name for obj in plan(outcomes, "logs", 1 << 20)]
    read = [archive_object("b", "logs", n) for n in names]
    assert sorted((o.log_dir, o.day, o.hour, o.log_id) for o in read if o is not None) == [
        (log_dir("a" * 300), "2026-11-20", "09", None),  # cut to fit: the entries themselves name the log
        ("requests", "2026-11-20", "09", "requests"),
        ("run.googleapis.com%2Frequests", "2026-11-20", "09", "run.googleapis.com/requests"),
    ]
    assert sum(o is None for o in read) == 1, "the _errors/ object is no LogEntry archive"
    assert all(o.directory.endswith("/dt=2026-11-20/") for o in read if o is not None)


@pytest.mark.parametrize(
    "name",
    [
        "other/requests/dt=2026-11-20/hour=09/a.ndjson.gz",  # another prefix
        "logs/requests/dt=2026-13-20/hour=09/a.ndjson.gz",  # no such month
        "logs/requests/dt=2026-11-20/hour=24/a.ndjson.gz",
        "logs/requests/dt=2026-11-20/a.ndjson.gz",
        "logs/_errors/dt=2026-11-20/hour=09/a.ndjson.gz",
    ],
)
def test_names_outside_the_layout_are_not_replayed(name: str) -> None:
    assert archive_object("b", "logs", name) is None


def test_an_empty_prefix_is_the_bucket_root() -> None:
    obj = archive_object("b", "", "requests/dt=2026-11-20/hour=09/a.ndjson.gz")
    assert obj is not None and obj.uri == "gs://b/requests/dt=2026-11-20/hour=09/a.ndjson.gz"


def test_a_line_gives_the_live_row_without_message_id_and_publish_time() -> None:
    entry = fx.load_balancer()
    live = pipeline.process(fx.pushed(entry))
    replayed = replay_line(fx.data(entry), SOURCE)
    assert live.row is not None and replayed.row is not None
    assert replayed.kind == "http" and replayed.log_id == "requests"
    assert replayed.row == {**live.row, "message_id": None, "publish_time": None}
    assert replayed.message == Message(data=fx.data(entry), subscription=SOURCE.uri)


def test_an_entry_without_any_time_takes_its_archive_hour_not_now() -> None:
    entry = fx.variant(fx.load_balancer(), timestamp=None, receiveTimestamp=None)
    replayed = replay_line(fx.data(entry), SOURCE)
    assert replayed.row is not None and replayed.row["timestamp"] == "2026-11-20T09:00:00.000000Z"
    assert replayed.row["publish_time"] is None and replayed.event_time == "2026-11-20T09:00:00.000000Z"


def test_an_error_row_is_deterministic_and_names_its_object() -> None:
    entry = fx.variant(fx.load_balancer(), httpRequest={"status": {"code": 200}})
    first, second = replay_line(fx.data(entry), SOURCE), replay_line(fx.data(entry), SOURCE)
    assert first.kind == "error" and first.reason == "bad_field"
    assert first.row == second.row
    assert first.row is not None
    assert (first.row["error_timestamp"], first.row["subscription"]) == ("2026-11-20T09:00:00.000000Z", SOURCE.uri)
    assert (first.row["message_id"], first.row["publish_time"]) == (None, None)


@given(st.binary(max_size=300))
def test_any_line_becomes_one_outcome_dated_within_reach(line: bytes) -> None:
    outcome = replay_line(line, SOURCE)
    assert outcome.kind in ("http", "other", "error")
    if outcome.kind == "error":
        assert outcome.row is not None and outcome.row["error_timestamp"] == SOURCE.hour_start


def test_lines_of_an_object() -> None:
    assert archive_lines(b'{"a":1}\n{"b":2}\n') == [b'{"a":1}', b'{"b":2}']
    assert archive_lines(b"") == []


def test_days_between_is_inclusive_and_checked() -> None:
    assert days_between("2024-02-28", "2024-03-01") == ["2024-02-28", "2024-02-29", "2024-03-01"]
    with pytest.raises(ReplayError, match="before"):
        days_between("2024-03-01", "2024-02-28")
    with pytest.raises(ReplayError, match="YYYY-MM-DD"):
        days_between("2024-3-1", "2024-03-02")


def test_a_day_is_open_until_it_ended_settle_ago() -> None:
    now = datetime(2024, 5, 3, 0, 30, tzinfo=UTC)
    days = ["2024-05-01", "2024-05-02", "2024-05-03"]
    assert open_days(days, now, timedelta(hours=1)) == ["2024-05-02", "2024-05-03"]
    assert open_days(days, now, timedelta(minutes=15)) == ["2024-05-03"]


def test_a_day_counts_its_scope_and_keeps_misdated_rows_out() -> None:
    day = DayReplay("2026-11-20")
    day.add_object(SOURCE)
    assert day.add(replay_line(fx.data(fx.load_balancer()), SOURCE))
    assert not day.add(replay_line(fx.data(fx.gen1_function()), SOURCE)), "other: no row"
    elsewhere = fx.variant(fx.load_balancer(), timestamp="2026-11-21T00:00:00Z")
    assert not day.add(replay_line(fx.data(elsewhere), SOURCE))
    nameless = fx.variant(fx.load_balancer(), logName=None)
    assert day.add(replay_line(fx.data(nameless), SOURCE))
    assert (day.entries, day.rows, day.misdated, dict(day.by_kind)) == (4, 2, 1, {"http": 3, "other": 1})
    assert day.named_log_ids == ["cloudfunctions.googleapis.com/cloud-functions", "requests"]
    assert day.includes_unknown_log
    merged = day.merge(DayReplay("2026-11-20", log_ids={"stdout"}, entries=2, rows=1))
    assert (merged.entries, merged.rows, "stdout" in merged.log_ids) == (6, 3, True)


def test_the_cli_refuses_bad_days_before_any_network(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["replay", "--bucket", "b", "--from", "2024-05-02", "--to", "2024-05-01"]) == 2
    assert capsys.readouterr().err == "error: --to 2024-05-01 is before --from 2024-05-02\n"
