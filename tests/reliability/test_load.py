"""The CI variant of bench/load.py: a small bounded load run through the local pipeline."""

from __future__ import annotations

import pytest

from bench.load import run_load

pytestmark = pytest.mark.emulators

MESSAGES = 1500
RSS_LIMIT_MIB = 1024


def test_a_small_load_run_loses_nothing_and_stays_bounded() -> None:
    report, accounting = run_load(MESSAGES, time_limit=240, say=print, samples=50)
    print("\n".join(report.lines()))
    print(accounting.table("load run"))
    assert report.complete, f"only {report.ingested} of {MESSAGES} ingested in time"
    assert accounting.ok and accounting.lost == 0 and accounting.double_stored == 0, accounting.table()
    assert accounting.archive_lost == 0, accounting.table()
    assert report.ingest_rate > 0 and report.drain_rate > 0 and report.drained >= MESSAGES
    assert report.paced_latency_p95 is not None and report.paced_latency_p95 < 30
    assert report.rss_peak_mib and max(report.rss_peak_mib.values()) < RSS_LIMIT_MIB, report.rss_peak_mib
