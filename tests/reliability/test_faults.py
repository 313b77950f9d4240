"""Nothing lost, nothing double-stored: the accounting of local/reliability.py after each fault.

The tests share one pipeline whose function servers reach BigQuery and Cloud Storage through
delay proxies. They run in file order, each restoring what it broke; each accounts for its
own messages, and the last one drains and accounts for the whole run, archive included.
"""

from __future__ import annotations

import pytest

from local.reliability import Reliability, Report, bad_input

pytestmark = pytest.mark.emulators


def assert_accounted(report: Report) -> None:
    assert report.ok, report.table()
    assert report.lost == 0 and report.double_stored == 0 and report.misfiled == 0, report.table()


def test_baseline_every_message_is_one_row_one_error_row_or_neither(run: Reliability) -> None:
    ids = run.baseline(400)
    report = run.account(ids)
    print(report.table("baseline"))
    assert_accounted(report)
    assert report.by_kind["http"] and report.by_kind["other"] and report.by_kind["error"], report.by_kind
    assert report.deliberate_duplicates > 0, "the mix publishes duplicates"
    # Storage Write keeps both deliveries of a duplicated request; the view keeps one.
    duplicated_requests = sum(1 for m in ids if run.expected[m].item.kind == "http" and run.expected[m].item.duplicate)
    assert report.duplicates_removed == duplicated_requests > 0, report.table()
    assert report.error_row_duplicates == 0, report.table()


def test_bigquery_stopped_mid_stream_then_restarted(run: Reliability) -> None:
    ids = run.bigquery_down(150)
    report = run.account(ids)
    print(report.table("BigQuery stopped for 15 s"))
    assert_accounted(report)


def test_cloud_storage_stopped_in_the_middle_of_a_drain_batch(run: Reliability) -> None:
    ids, failed = run.gcs_down(150)
    assert failed.get("status") == 500 and failed.get("stopped") == "failed", failed
    assert failed["released"] == failed["pulled"] - failed["acked"], failed
    report = run.account(archive=True)
    print(report.table("Cloud Storage stopped mid-batch (everything so far, archive included)"))
    assert_accounted(report)
    assert set(ids) <= set(run.expected)


def test_drain_killed_mid_batch_then_restarted(run: Reliability) -> None:
    ids = run.drain_killed(150)
    report = run.account(archive=True)
    print(report.table("drain SIGKILLed mid-batch (everything so far, archive included)"))
    assert_accounted(report)
    assert run.account(ids, archive=True).archive_lost == 0


def test_bigquery_responses_slower_than_the_ack_deadline(run: Reliability) -> None:
    ids = run.slow_bigquery()
    report = run.account(ids)
    print(report.table("BigQuery answering 25 s late for 12 s"))
    assert_accounted(report)
    assert run.proxies["bigquery-grpc"].delayed_chunks > 0, "the proxy delayed nothing: the fault did not happen"


def test_each_malformed_case_gets_an_error_row_with_its_reason(run: Reliability) -> None:
    ids = bad_input(run)
    rows = run.e2e.rows_by_message_id("errors", ids)
    reasons = {r["message_id"]: r["reason"] for r in rows}
    assert reasons == {m: run.expected[m].item.reason for m in ids}, reasons
    assert sorted(set(reasons.values())) == [
        "bad_base64", "bad_field", "not_json", "not_logentry", "not_utf8", "too_large"
    ]  # fmt: skip
    big = next(r for r in rows if r["reason"] == "too_large")
    assert len(big["payload_bytes"] or b"") <= 1024 * 1024, "oversized payloads are cut in the row"
    assert_accounted(run.account(ids))


def test_the_whole_run_is_accounted_for_archive_included(run: Reliability) -> None:
    run.drain_all()
    # No fault above may push a message into the dead-letter topic: each recovers within far
    # fewer than MAX_DELIVERY_ATTEMPTS deliveries.
    leftovers = run.pull_dead_letters(0, timeout=15)
    assert leftovers == [], f"dead letters nobody expected: {leftovers}"
    report = run.account(archive=True)
    print(report.table("whole run"))
    assert_accounted(report)
    assert report.archive_lines >= report.archive_expected
