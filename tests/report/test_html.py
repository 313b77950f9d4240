"""The report page from given answers (no BigQuery): self-contained, escaped, every panel a
chart with its table, and an empty range said plainly."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from report import html
from report.panels import PANELS
from tests.report.pages import Tables

SINCE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CONTEXT = html.Context(SINCE, SINCE + timedelta(hours=1), "BigQuery (test)", SINCE + timedelta(hours=2))
HOSTILE = '/<script>alert("x")</script>?a=1&b=2'


def _answers() -> dict[str, list[dict[str, Any]]]:
    minute = [SINCE + timedelta(minutes=m) for m in range(3)]
    over_time = [
        {"time": t, "bucket_seconds": 60, "requests": 10, "status_2xx": 7, "status_3xx": 1, "status_4xx": 1,
         "status_5xx": 1, "status_other": 0, "p50_ms": 20.0, "p95_ms": 80.0, "p99_ms": 120.0,
         "bytes_served": 12000, "bot_requests": 2, "error_rows": 1}
        for t in minute
    ]  # fmt: skip
    ranked = [{"path": HOSTILE, "requests": 5, "bytes_served": 10, "status_4xx": 1, "status_5xx": 0, "bot_requests": 1,
               "referrers": 1, "p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0}]  # fmt: skip
    return {
        "traffic_summary": [
            {
                "requests": 30,
                "status_4xx": 3,
                "status_5xx": 3,
                "error_rate": 0.1,
                "p50_ms": 20.0,
                "p95_ms": 80.0,
                "p99_ms": 120.0,
                "bytes_served": 36000,
                "bot_requests": 6,
                "bot_share": 0.2,
                "error_rows": 3,
            }
        ],
        "traffic_over_time": over_time,
        "latency_by_path": ranked,
        "top_paths": ranked,
        "not_found": ranked,
        "top_referrers": [{"referrer_host": "www.google.com", "requests": 4, "paths": 2}],
        "user_agents": [
            {"dimension": d, "value": v, "requests": 3}
            for d, v in (("device", "desktop"), ("browser", "Firefox"), ("os", "Linux"), ("bot", "kube-probe/1.30"))
        ],
        "error_rows": [
            {"reason": "not_json", "stage": "decode", "error_rows": 3, "first_seen": SINCE, "last_seen": SINCE}
        ],
    }


@pytest.fixture(scope="module")
def page() -> str:
    return html.render(_answers(), CONTEXT)


def test_every_panel_has_a_chart_and_its_table(page: str) -> None:
    tables = Tables(page)
    for panel in PANELS:
        assert f'<figure class="chart" data-panel="{panel.key}"><svg' in page, panel.key
        columns, rows = tables.tables[panel.key]
        assert columns == [c.name for c in panel.columns] and rows, panel.key
    assert tables.rows("status")[0] == {"time": "09:00", "status_2xx": "7", "status_3xx": "1", "status_4xx": "1",
                                        "status_5xx": "1", "status_other": "0"}  # fmt: skip
    assert tables.stats == {"requests": "30", "status_4xx": "3", "error_rate": "10.0%", "p95_ms": "80.0 ms",
                            "bytes_served": "36.00 kB", "bot_share": "20.0%", "error_rows": "3"}  # fmt: skip


def test_self_contained_and_offline(page: str) -> None:
    assert "<script" not in page.lower()
    assert not re.search(r"""\s(?:src|href)\s*=\s*["']?(?:https?:)?//""", page, re.IGNORECASE)
    assert "<link" not in page.lower() and "@import" not in page and "url(" not in page


def test_data_is_escaped_in_tables_and_charts(page: str) -> None:
    assert HOSTILE not in page
    assert html_escaped(HOSTILE) in page  # the table cell
    assert "alert(&quot;x&quot;)" in page or 'alert("x")</text>' not in page


def html_escaped(text: str) -> str:
    import html as std  # noqa: PLC0415

    return std.escape(text)


def test_an_empty_range_says_so() -> None:
    page = html.render({}, CONTEXT)
    assert page.count('class="empty"') == len(PANELS)
    assert "<svg" not in page
    assert Tables(page).stats["requests"] == "—"


def test_time_panels_skip_empty_buckets_and_sort() -> None:
    answers = _answers()
    answers["traffic_over_time"].reverse()
    answers["traffic_over_time"].append({**answers["traffic_over_time"][0], "time": SINCE + timedelta(minutes=9),
                                         "p50_ms": None, "p95_ms": None, "p99_ms": None, "error_rows": 0})  # fmt: skip
    latency = next(p for p in PANELS if p.key == "latency")
    errors = next(p for p in PANELS if p.key == "errors")
    assert [r["time"].minute for r in html.rows_of(latency, answers)] == [0, 1, 2]
    assert [r["time"].minute for r in html.rows_of(errors, answers)] == [0, 1, 2]


def test_a_multi_day_range_labels_days() -> None:
    context = html.Context(SINCE, SINCE + timedelta(days=3), "x", SINCE)
    assert Tables(html.render(_answers(), context)).rows("status")[0]["time"] == "11-20 09:00"
