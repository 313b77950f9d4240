"""The accounting of local/reliability.py in `batch` mode, the deployed default: no `ingest`,
`drain` (called as Cloud Scheduler calls it) writes the rows and the archive. Nothing lost,
nothing double-stored, when BigQuery is stopped or slow while a `drain` run writes.

The tests share one pipeline and run in file order; the last one accounts for the whole run,
archive included. The drain-side faults the push tests cover (Cloud Storage stopped, drain
killed) run the same code here and are not repeated.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.emulators import ensure_installed
from local.reliability import Reliability, bad_input, faulty_pipeline
from tests.reliability.test_faults import assert_accounted

pytestmark = pytest.mark.emulators


@pytest.fixture(scope="module")
def run(request: pytest.FixtureRequest) -> Iterator[Reliability]:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        ensure_installed()
    with faulty_pipeline(mode="batch") as running:
        assert set(running.pipeline.servers) == {"drain"} and not running.pushes
        yield running


def test_baseline_drain_writes_every_row_and_error_row(run: Reliability) -> None:
    ids = run.baseline(300)
    report = run.account(ids, archive=True)
    print(report.table("batch baseline"))
    assert_accounted(report)
    assert report.by_kind["http"] and report.by_kind["other"] and report.by_kind["error"], report.by_kind
    duplicated = sum(1 for m in ids if run.expected[m].item.kind == "http" and run.expected[m].item.duplicate)
    assert report.duplicates_removed == duplicated > 0, report.table()
    assert report.error_row_duplicates == 0 and report.archive_duplicates == 0, report.table()


def test_a_drain_run_meeting_a_stopped_bigquery_acks_nothing_and_the_next_stores_it(run: Reliability) -> None:
    ids = run.bigquery_down(120)
    report = run.account(ids)
    print(report.table("batch: BigQuery stopped during a drain run"))
    assert_accounted(report)


def test_bigquery_answering_after_the_write_budget(run: Reliability) -> None:
    ids = run.slow_bigquery(delay=12.0)  # past drain's 10 s write budget here
    report = run.account(ids)
    print(report.table("batch: BigQuery answering 12 s late"))
    assert_accounted(report)
    assert run.proxies["bigquery-grpc"].delayed_chunks > 0, "the proxy delayed nothing: the fault did not happen"


def test_malformed_messages_get_their_error_rows_through_drain(run: Reliability) -> None:
    ids = bad_input(run)
    reasons = {r["message_id"]: r["reason"] for r in run.e2e.rows_by_message_id("errors", ids)}
    assert sorted(set(reasons.values())) == ["bad_field", "not_json", "not_logentry", "not_utf8"], reasons
    assert_accounted(run.account(ids))


def test_the_whole_batch_run_is_accounted_for_archive_included(run: Reliability) -> None:
    run.drain_all()
    assert run.pull_dead_letters(0, timeout=15) == []
    report = run.account(archive=True)
    print(report.table("batch: whole run"))
    assert_accounted(report)
    assert report.archive_lines >= report.archive_expected
