"""How the BigQuery sink cuts a table's rows into requests (pure: no emulator)."""

from __future__ import annotations

import json
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from sinks.bigquery import MAX_REQUEST_BYTES, insert_all_bytes, request_row_id, split_requests
from tests.sinks.conftest import error_outcome, http_outcome


@given(st.lists(st.integers(1, MAX_REQUEST_BYTES), max_size=40), st.none() | st.integers(1, 5))
def test_requests_keep_order_and_stay_within_bounds(sizes: list[int], max_rows: int | None) -> None:
    indexes = [i * 3 for i in range(len(sizes))]  # any row indexes, in order
    size_of = dict(zip(indexes, sizes, strict=True))
    requests = split_requests(indexes, sizes, max_rows)
    assert [i for request in requests for i in request] == indexes
    for request in requests:
        assert sum(size_of[i] for i in request) <= MAX_REQUEST_BYTES
        assert max_rows is None or len(request) <= max_rows
    for first, second in pairwise(requests):  # each request is as full as it can be
        assert sum(size_of[i] for i in first + second[:1]) > MAX_REQUEST_BYTES or len(first) == max_rows


def test_insert_all_sizes_add_up_to_the_body_the_client_sends() -> None:
    """The body google-cloud-bigquery's insert_rows_json builds, serialised as its HTTP layer does."""
    rows = [o.row for o in (http_outcome(1), error_outcome("e1", "ログ é \u2028 😀".encode())) if o.row is not None]
    ids = ["a@2024-05-01T10:15:00.123456Z", "e1:not_json:decode"]
    body = {"rows": [{"json": row, "insertId": row_id} for row, row_id in zip(rows, ids, strict=True)]}
    body_bytes = len(json.dumps({**body, "skipInvalidRows": True}))
    envelope = len(json.dumps({"rows": [], "skipInvalidRows": True}))
    assert sum(insert_all_bytes(row, row_id) for row, row_id in zip(rows, ids, strict=True)) == (
        body_bytes - envelope + len(", ")  # the last row has no separator after it
    )


def test_row_ids_tell_logs_apart_and_repeat_for_a_redelivery() -> None:
    """insertAll drops a row whose insertId it saw a minute before: two logs' entries that share
    an insertId and a timestamp (the view keeps both) must not share a row id."""
    row = http_outcome(1).row
    assert row is not None and row["insert_id"] and row["log_name"]
    other_log = {**row, "log_name": "projects/p/logs/another"}
    long_log = {**row, "log_name": "projects/p/logs/" + "x" * 500}
    assert request_row_id(row) == request_row_id(dict(row))  # redelivered: BigQuery may drop it
    assert request_row_id(row) != request_row_id(other_log)
    assert len(request_row_id(long_log)) == 32
    assert request_row_id({**row, "insert_id": None, "message_id": "m1"}) == "m1"
