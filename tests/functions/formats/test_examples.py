"""Every format's EXAMPLES, run through the whole core inside a realistic LogEntry.

Adding a format means adding its module with EXAMPLES to functions.formats.FORMATS; this
test picks them up, and checks each row against the BigQuery schema too.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from functions import formats, user_agent
from functions.formats.example import Example
from functions.pipeline import process
from functions.schema import HTTP_REQUESTS
from local import entries as fx
from tests.functions.bigquery_values import problems

EXAMPLES = [(fmt.__name__.rsplit(".", 1)[1], example) for fmt in formats.FORMATS for example in fmt.EXAMPLES]


def as_logentry(example: Example) -> dict[str, Any]:
    """The example's request fields inside a LogEntry of its resource type."""
    entry = fx.variant(fx.gke_container(""), textPayload=None, trace=f"projects/{fx.PROJECT}/traces/0af7651916cd43dd",
                       spanId="b7ad6b7169203331")  # fmt: skip
    entry["resource"] = {"type": example.resource_type, "labels": {"project_id": fx.PROJECT}}
    entry.update(copy.deepcopy(example.entry))
    return entry


@pytest.mark.parametrize(("module", "example"), EXAMPLES, ids=[f"{m}:{e.name}" for m, e in EXAMPLES])
def test_example(module: str, example: Example) -> None:
    outcome = process(fx.pushed(as_logentry(example)))
    if example.expect is None:
        assert (outcome.kind, outcome.detail) == ("other", None)
        return
    assert (outcome.kind, outcome.detail) == ("http", None)
    row = outcome.row
    assert row is not None
    got = {k: row[k] for k in example.expect}
    assert got == pytest.approx(example.expect)
    assert problems(HTTP_REQUESTS, row) == []
    assert row["resource_type"] == example.resource_type


def test_example_names_are_unique_and_every_format_has_examples_both_ways() -> None:
    names = [e.name for _, e in EXAMPLES]
    assert len(names) == len(set(names))
    for fmt in formats.FORMATS:
        assert any(e.expect is not None for e in fmt.EXAMPLES), fmt.__name__
        assert fmt.__doc__ and "." in fmt.__doc__, f"{fmt.__name__} must say where its format is documented"


def test_examples_fill_every_request_column() -> None:
    """So that the hostile-value test (test_row_values.py), which mutates the examples,
    reaches every column a format can fill."""
    filled = {k for _, e in EXAMPLES if e.expect for k, v in e.expect.items() if v is not None}
    request_columns = set(HTTP_REQUESTS.column_names) - {"timestamp", "receive_timestamp", "publish_time", "insert_id",
        "message_id", "log_name", "log_id", "resource_type", "project_id", "severity", "trace", "span_id",
        "resource_labels", "labels"}  # fmt: skip
    # The user-agent columns are derived from `user_agent` (functions/user_agent.py), not read by a
    # format: hostile agents reach them through that column, and tests/functions/test_user_agent.py
    # covers the classification.
    derived = set(user_agent.COLUMNS)
    assert derived <= request_columns
    assert request_columns - derived - filled == set()


def test_line_time_is_the_access_lines_own_time_in_utc() -> None:
    assert formats.line_time(fx.APACHE_COMMON) == "2026-10-10T20:55:36.000000Z"
    assert formats.line_time(fx.ENVOY_DEFAULT) == "2026-11-20T09:15:02.123000Z"
    assert formats.line_time(fx.NGINX_ERROR) is None
    assert formats.line_time('1.2.3.4 - - [20/Nov/2026:09:15:02 +9999] "GET / HTTP/1.1" 200 1') is None
