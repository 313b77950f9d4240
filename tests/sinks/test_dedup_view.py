"""The dedup view (functions/views.py, the SQL Terraform deploys) run on local-bigquery.

Rows are written through the Storage Write path, which keeps every delivery, so the view alone
decides what counts as one Cloud Logging entry: log name, insertId and timestamp, else the
Pub/Sub message id. (local-bigquery does not model partition pruning, nor
require_partition_filter through a view, so the pruning rule is checked on the SQL itself in
tests/functions/test_views.py.)
"""

from __future__ import annotations

from typing import Any

import pytest

from functions.config import Settings
from sinks.bigquery import BigQuerySink
from tests.sinks.conftest import Destinations, http_outcome
from tests.sinks.test_bigquery import query

pytestmark = pytest.mark.emulators

T1 = "2024-05-01T10:15:00.123456Z"
T2 = "2024-05-01T10:15:00.123457Z"  # one microsecond later: a different entry
OTHER_DAY = "2024-05-03T08:00:00Z"


def _delivery(n: int, message_id: str, publish_time: str, **fields: Any) -> Any:
    outcome = http_outcome(n, message_id=message_id, **fields)
    assert outcome.row is not None
    outcome.row["publish_time"] = publish_time
    return outcome


def test_one_row_per_cloud_logging_entry(dest: Destinations) -> None:
    sink = dest.sink("storage_write")
    sink.ensure()
    other_log = "projects/demo-blog/logs/stdout"
    sink.write(
        [
            # One entry delivered three times: the first published is kept.
            _delivery(1, "m1-late", "2024-05-01T10:15:09Z", insert_id="same", time=T1),
            _delivery(1, "m1-first", "2024-05-01T10:15:01Z", insert_id="same", time=T1),
            _delivery(1, "m1-again", "2024-05-01T10:15:05Z", insert_id="same", time=T1),
            # Same insertId, another timestamp: another entry (Cloud Logging allows it).
            _delivery(2, "m2", "2024-05-01T10:15:02Z", insert_id="same", time=T2),
            # Same insertId and timestamp in another log: another entry.
            _delivery(3, "m3", "2024-05-01T10:15:03Z", insert_id="same", time=T1, log_name=other_log),
            # No insertId: identified by the message id, which a redelivery keeps.
            _delivery(4, "m4", "2024-05-01T10:15:04Z", insert_id=None, time=T1),
            _delivery(4, "m4", "2024-05-01T10:15:07Z", insert_id=None, time=T1),
            _delivery(5, "m5", "2024-05-01T10:15:04Z", insert_id=None, time=T1),
            # Another day, to filter on.
            _delivery(6, "m6", "2024-05-03T08:00:01Z", insert_id="later", time=OTHER_DAY),
        ]
    )
    assert query(sink, "SELECT COUNT(*) AS n FROM `{ds}.http_requests`") == [{"n": 9}]

    rows = query(sink, "SELECT message_id FROM `{ds}.http_requests_dedup` ORDER BY message_id")
    assert [r["message_id"] for r in rows] == ["m1-first", "m2", "m3", "m4", "m5", "m6"]

    # A filter on the partitioning column through the view (what pruning relies on) gives the
    # same rows as filtering afterwards.
    day = query(
        sink,
        "SELECT message_id FROM `{ds}.http_requests_dedup` "
        "WHERE timestamp >= TIMESTAMP '2024-05-01' AND timestamp < TIMESTAMP '2024-05-02' ORDER BY message_id",
    )
    assert [r["message_id"] for r in day] == ["m1-first", "m2", "m3", "m4", "m5"]


def test_the_view_keeps_every_column_of_the_table(dest: Destinations) -> None:
    sink = dest.sink("storage_write")
    sink.ensure()
    sink.write([http_outcome(1)])
    (table_row,) = query(sink, "SELECT * FROM `{ds}.http_requests`")
    (view_row,) = query(sink, "SELECT * FROM `{ds}.http_requests_dedup`")
    assert view_row == table_row


def test_the_view_is_named_after_the_requests_table(dest: Destinations) -> None:
    """`<table>_dedup` over that table, as Terraform, the gcloud script and the report name it."""
    sink = BigQuerySink(Settings.from_env({**dest.env(), "BIGQUERY_TABLE": "web_requests"}))
    sink.ensure()
    sink.write([http_outcome(1, message_id="w1")])
    assert query(sink, "SELECT message_id FROM `{ds}.web_requests_dedup`") == [{"message_id": "w1"}]
