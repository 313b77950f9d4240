"""functions/views.py: the one definition of the dedup view, and the file Terraform reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from functions.schema import HTTP_REQUESTS
from functions.views import HTTP_REQUESTS_DEDUP, SQL_DIR, VIEWS, write_view_files

PARTITIONING_COLUMN = "timestamp"  # of the requests table: terraform/bigquery.tf, sinks/bigquery.py


def window_partition_by(sql: str) -> list[str]:
    """The expressions of the (single) window's PARTITION BY, split at top-level commas."""
    match = re.search(r"OVER\s*\(\s*PARTITION BY(.*?)ORDER BY", sql, re.S)
    assert match is not None, "no window with PARTITION BY ... ORDER BY"
    parts, depth, current = [], 0, ""
    for char in match.group(1):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    parts.append(current.strip())
    return parts


def prunes_on_partitioning_column(sql: str) -> bool:
    """A filter on a column passes below a window only if that column, as such, is one of the
    window's PARTITION BY expressions: then the filter drops whole window partitions and
    leaves the others' row numbers unchanged, so the scan can apply it and prune."""
    return PARTITIONING_COLUMN in window_partition_by(sql)


def test_the_dedup_window_is_partitioned_by_the_partitioning_column() -> None:
    sql = HTTP_REQUESTS_DEDUP.render(requests_table="p.d.t")
    assert prunes_on_partitioning_column(sql)
    assert PARTITIONING_COLUMN in HTTP_REQUESTS.column_names


def test_the_pruning_check_rejects_the_former_definition() -> None:
    """The view deployed before: partitioned by an expression of ids only, so a filter on
    timestamp could not reach the scan (and require_partition_filter refused every query)."""
    former = (
        "SELECT * EXCEPT (row_number) FROM (SELECT *, ROW_NUMBER() OVER ("
        "PARTITION BY COALESCE(insert_id, message_id, GENERATE_UUID()) ORDER BY publish_time"
        ") AS row_number FROM `p.d.t`) WHERE row_number = 1"
    )
    assert not prunes_on_partitioning_column(former)
    assert not prunes_on_partitioning_column(former.replace("GENERATE_UUID())", "GENERATE_UUID(), DATE(timestamp))"))


def test_the_dedup_key_is_cloud_loggings_identity() -> None:
    keys = window_partition_by(HTTP_REQUESTS_DEDUP.template)
    assert keys[:3] == ["timestamp", "log_name", "insert_id"]
    # Without an insertId, the message id (kept by redeliveries) stands in.
    assert re.fullmatch(r"CASE WHEN insert_id IS NULL THEN COALESCE\(message_id, .+\) END", keys[3])
    assert {"timestamp", "log_name", "insert_id", "message_id", "publish_time"} <= set(HTTP_REQUESTS.column_names)
    assert re.search(r"ORDER BY publish_time, message_id\s*\)", HTTP_REQUESTS_DEDUP.template)


def test_render_fills_every_placeholder_and_only_those() -> None:
    sql = HTTP_REQUESTS_DEDUP.render(requests_table="proj.logs.http_requests")
    assert "FROM `proj.logs.http_requests`" in sql
    assert "${" not in sql
    assert sql.startswith("-- Generated from functions/views.py")
    with pytest.raises(ValueError, match="missing"):
        HTTP_REQUESTS_DEDUP.render()
    with pytest.raises(ValueError, match="unknown"):
        HTTP_REQUESTS_DEDUP.render(requests_table="a.b.c", other="x")


def test_templates_hold_nothing_else_templatefile_would_interpret() -> None:
    for view in VIEWS:
        # templatefile() reads ${...} as interpolation and %{...} as a directive.
        assert "%{" not in view.template
        assert set(re.findall(r"\$\{([^}]*)\}", view.template)) == view.placeholders


def test_terraform_sql_files_are_fresh(tmp_path: Path) -> None:
    """Fails when functions/views.py changed without `make schemas`."""
    written = write_view_files(tmp_path)
    assert [p.name for p in written] == [f"{v.name}.sql" for v in VIEWS]
    for path in written:
        committed = SQL_DIR / path.name
        assert committed.is_file(), f"{committed} is missing: run `make schemas`"
        assert committed.read_text() == path.read_text(), f"{committed} is stale: run `make schemas`"
