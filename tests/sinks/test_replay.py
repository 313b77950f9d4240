"""Replay on the emulators: the archive in fake-gcs-server, the tables in local-bigquery.

The "parser change" is simulated honestly: the table first holds the rows an older reading
wrote through the live write path (it knew no Envoy lines and did not fill `host`), then the
replay re-derives the days from the archive with today's code.
"""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from google.api_core import exceptions as api_exceptions

from functions import __main__ as cli
from functions.outcome import Outcome
from functions.replay import DayReplay, ReplayError
from functions.schema import ERRORS, HTTP_REQUESTS
from sinks.clients import make_bigquery_client
from sinks.replay import Progress, ReplayReport, Tables, replay
from tests.sinks.conftest import Destinations, error_outcome, http_outcome
from tests.sinks.replay_archive import DAYS, dataset_tables, expected, live_outcomes, table_rows, write_archive

pytestmark = pytest.mark.emulators
ROOT = Path(__file__).resolve().parents[2]


def setup_live(dest: Destinations) -> list[Outcome]:
    """The archive and the table as the older reading's functions left them, plus a row of a log
    the archive does not hold, a row of a day not replayed, and a live error row. Returns
    today's reading of the archived entries."""
    sink = dest.sink()
    sink.ensure()
    report = sink.write(write_archive(dest))
    assert report.rejected == 0
    sink.write(
        [
            http_outcome(1, log_id="varnish", time="2024-05-01T12:00:00Z"),
            http_outcome(2, time="2024-05-03T01:00:00Z"),
            error_outcome("live-error-1"),
        ]
    )
    return live_outcomes()


def run(dest: Destinations, **options: object) -> tuple[ReplayReport, str]:
    progress = io.StringIO()
    report = replay(
        dest.settings(),
        bucket=dest.bucket,
        prefix="logs",
        days=list(DAYS),
        progress=Progress(progress, interval=0.0),
        **options,  # type: ignore[arg-type]
    )
    return report, progress.getvalue()


def replayed_row(outcome: Outcome) -> dict[str, object]:
    """Today's row for an archived entry: the live row without what the archive lacks."""
    assert outcome.row is not None
    row = {**outcome.row, "message_id": None, "publish_time": None}
    if outcome.row["insert_id"].endswith("-timeless"):  # no time in the entry: its archive hour
        row["timestamp"] = outcome.row["timestamp"][:13] + ":00:00.000000Z"
    return expected(row, HTTP_REQUESTS)


def test_replay_after_a_parser_change_yields_the_new_rows_and_no_duplicates(dest: Destinations) -> None:
    outcomes = setup_live(dest)
    before = table_rows(dest, HTTP_REQUESTS)
    live_errors = table_rows(dest, ERRORS)
    assert not any(r["source"] == "envoy" for r in before)

    report, progress = run(dest)

    rows = table_rows(dest, HTTP_REQUESTS)
    untouched = [r for r in before if r["log_id"] == "varnish" or r["timestamp"].startswith("2024-05-03")]
    new = sorted(
        (replayed_row(o) for o in outcomes if o.kind == "http"),
        key=lambda r: orjson.dumps(r, option=orjson.OPT_SORT_KEYS),
    )
    assert len(untouched) == 2
    assert [r for r in rows if r not in untouched] == new
    assert sum(r["source"] == "envoy" for r in rows) == 6
    assert not any(r["host"] for r in before if r not in untouched)
    assert sum(bool(r["host"]) for r in new) == 20  # all but the nginx lines, whose URL is a path
    identities = [(r["log_name"], r["insert_id"], r["timestamp"]) for r in rows]
    assert len(identities) == len(set(identities)), "no entry twice"
    timeless = [r for r in rows if r["insert_id"] and r["insert_id"].endswith("-timeless")]
    assert sorted(r["timestamp"] for r in timeless) == ["2024-05-01T16:00:00.000000Z", "2024-05-02T16:00:00.000000Z"]

    errors = table_rows(dest, ERRORS)
    replay_errors = [r for r in errors if (r["subscription"] or "").startswith("gs://")]
    assert [r for r in errors if r not in replay_errors] == live_errors, "the live functions' error rows are history"
    assert sorted((r["reason"], r["error_timestamp"]) for r in replay_errors) == [
        ("bad_field", "2024-05-01T07:00:00.000000Z"),
        ("bad_field", "2024-05-02T07:00:00.000000Z"),
    ]
    assert all(r["message_id"] is None and r["publish_time"] is None for r in replay_errors)
    assert all("/requests/dt=" in r["subscription"] for r in replay_errors)

    by_day = {d.replay.day: d for d in report.days}
    assert [by_day[d].replay.rows for d in DAYS] == [13, 13]
    assert [by_day[d].before.rows for d in DAYS] == [10, 10]  # the older reading's, varnish's excluded
    assert dict(by_day[DAYS[0]].replay.by_kind) == {"http": 13, "other": 1, "error": 1}
    assert "replay 2024-05-02: 11/11 objects, 15 entries, 13 rows (30 entries in all," in progress
    assert dataset_tables(dest) == ["errors", "http_requests", "http_requests_dedup"], "staging dropped"


def test_two_replays_give_identical_tables(dest: Destinations) -> None:
    setup_live(dest)
    run(dest)
    first = (table_rows(dest, HTTP_REQUESTS), table_rows(dest, ERRORS))
    run(dest)
    assert (table_rows(dest, HTTP_REQUESTS), table_rows(dest, ERRORS)) == first


def test_an_entry_archived_twice_gives_one_row(dest: Destinations) -> None:
    outcomes = setup_live(dest)
    again = [dataclasses.replace(o, message=dataclasses.replace(o.message, message_id="redelivered" + str(i)))
             for i, o in enumerate(outcomes[:5])]  # fmt: skip
    dest.archiver().archive(again)  # a redelivered batch split differently: new objects, same entries
    run(dest)
    rows = table_rows(dest, HTTP_REQUESTS)
    identities = [(r["log_name"], r["insert_id"], r["timestamp"]) for r in rows]
    assert len(identities) == len(set(identities)) == 28


def test_dry_run_writes_nothing_and_reports_rows_now_and_after(dest: Destinations) -> None:
    setup_live(dest)
    tables = dataset_tables(dest)
    before = (table_rows(dest, HTTP_REQUESTS), table_rows(dest, ERRORS))

    report, _ = run(dest, dry_run=True)

    assert (table_rows(dest, HTTP_REQUESTS), table_rows(dest, ERRORS)) == before
    assert dataset_tables(dest) == tables, "not even a staging table"
    day = report.to_json()["days"][0]
    assert (day["rows_before"], day["rows_after"], day["outcomes"]) == (10, 13, {"http": 13, "other": 1, "error": 1})
    assert (day["error_reasons"], day["error_reasons_before"]) == ({"bad_field": 1}, {})


def test_cli_dry_run_prints_the_table(dest: Destinations) -> None:
    setup_live(dest)
    done = subprocess.run(
        [sys.executable, "-m", "functions", "replay", "--from", DAYS[0], "--to", DAYS[1], "--dry-run"],
        env={**os.environ, **dest.env()},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("dry run: nothing written; 30 entries")
    lines = done.stdout.splitlines()
    assert lines[2].split()[:8] == ["2024-05-01", "11", "15", "10", "13", "13", "1", "1"]
    assert "bad_field 0 -> 1 (new)" in lines[2]
    assert "replay 2024-05-02: 11/11 objects, 15 entries, 13 rows" in done.stderr


def test_only_the_given_logs_are_replaced(dest: Destinations) -> None:
    setup_live(dest)
    before = table_rows(dest, HTTP_REQUESTS)
    report, _ = run(dest, log_ids=["stdout"])
    rows = table_rows(dest, HTTP_REQUESTS)
    assert [r for r in rows if r["log_id"] != "stdout"] == [r for r in before if r["log_id"] != "stdout"]
    assert sum(r["source"] == "envoy" for r in rows) == 6
    assert [d.replay.log_ids for d in report.days] == [{"stdout"}, {"stdout"}]


def test_days_that_may_still_get_live_rows_are_refused_unless_allowed(dest: Destinations) -> None:
    setup_live(dest)
    today = datetime.now(UTC).date().isoformat()
    with pytest.raises(ReplayError, match=f"{today}: the day ended less than"):
        replay(dest.settings(), bucket=dest.bucket, prefix="logs", days=[today], progress=Progress(io.StringIO()))
    fresh = http_outcome(3, time="2024-05-02T09:00:00Z")
    fresh = dataclasses.replace(fresh, row={**(fresh.row or {}), "publish_time": datetime.now(UTC).isoformat()})
    dest.sink().write([fresh])  # a late entry for an old day, just published
    with pytest.raises(ReplayError, match="2024-05-02: it has rows published in the last 1:00:00"):
        run(dest)
    report, _ = run(dest, allow_live_days=True)
    assert report.days[1].live is not None and len(table_rows(dest, HTTP_REQUESTS)) == 28


def test_a_failing_day_changes_nothing(dest: Destinations) -> None:
    setup_live(dest)
    before = table_rows(dest, HTTP_REQUESTS)
    tables = Tables(dest.settings())
    tables.create_staging()
    day = DayReplay(DAYS[0], log_ids={"requests"}, objects=1)
    client = make_bigquery_client(dest.settings())
    client.delete_table(tables.staging(ERRORS.name))  # the script's second INSERT fails after the first DELETE
    with pytest.raises(api_exceptions.GoogleAPICallError):
        tables.replace_day(day)
    assert table_rows(dest, HTTP_REQUESTS) == before, "the DELETE was rolled back"
    tables.drop_staging()


def test_settle_window_counts_from_the_end_of_the_day(dest: Destinations) -> None:
    """The live check's data half, on its own: only rows published within the window count."""
    setup_live(dest)
    tables = Tables(dest.settings())
    since = datetime(2024, 5, 2, 9, 0, tzinfo=UTC) - timedelta(minutes=1)
    assert tables.days_with_live_rows(list(DAYS), since) == ["2024-05-02"]
    assert tables.days_with_live_rows(list(DAYS), datetime.now(UTC) - timedelta(hours=1)) == []


def test_a_missing_bucket_is_an_error_message_not_a_traceback(
    dest: Destinations, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dest.sink().ensure()
    for key, value in dest.env().items():
        monkeypatch.setenv(key, value)
    assert cli.main(["replay", "--bucket", "no-such-bucket", "--from", DAYS[0], "--dry-run"]) == 1
    assert capsys.readouterr().err.startswith("error: 404 ")
