"""`ingest` with BIGQUERY_WRITE_METHOD=insert_all (legacy streaming inserts, whose insertId
de-duplicates redeliveries within about a minute), end to end. Its own pipeline: the write
method is a setting of the function servers."""

from __future__ import annotations

import pytest

from local import entries as fx
from local.harness import E2E, entry, unique

pytestmark = pytest.mark.emulators

WRITE_METHOD = "insert_all"


def test_a_redelivered_entry_is_one_row_with_insert_all(e2e: E2E) -> None:
    insert_id = unique("ia-dup")
    data = entry(fx.cloud_run(), insert_id)
    twice = e2e.publish([data, data])
    e2e.wait_ingested(twice)  # ingest logs only once it has stored
    rows = e2e.rows_by_insert_id("http_requests", [insert_id])
    assert len(rows) == 1 and rows[0]["message_id"] in twice, f"rows for {insert_id}: {rows}"
    assert [r["message_id"] for r in e2e.rows_by_insert_id("http_requests_dedup", [insert_id])] == [
        rows[0]["message_id"]
    ]


def test_entries_sharing_an_insert_id_but_not_a_timestamp_are_two_rows_with_insert_all(e2e: E2E) -> None:
    insert_id = unique("ia-ts")
    ids = e2e.publish(
        [entry(fx.load_balancer(), insert_id), entry(fx.load_balancer(), insert_id, "2026-11-20T09:16:00Z")]
    )
    e2e.wait_ingested(ids)
    held = sorted(r["message_id"] for r in e2e.rows_by_insert_id("http_requests", [insert_id]))
    assert held == sorted(ids), (
        f"http_requests holds messages {held} of {sorted(ids)}: two LogEntries with the same insertId and different "
        "timestamps are distinct (Cloud Logging's identity is insertId + timestamp), but insertAll de-duplicated them"
    )
