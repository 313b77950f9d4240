"""The demo's report as a person sees it: headless Chromium opens the page the CLI wrote,
every chart is drawn, and every number in its table equals a count made with plain SQL over
the table the rows landed in (not through the report's table functions)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from report import grafana
from report.html import Context
from report.panels import PANELS, STATS
from tests.report.conftest import Demo
from tests.report.pages import Tables, coloured_share, number

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.emulators

# Drawn charts of the demo scored 1.4% (one bar of error rows) to 67%; the same charts with
# their marks removed 0.0-0.3% (legends stay).
DRAWN = 0.008


@pytest.fixture(scope="module")
def tables(demo: Demo) -> Tables:
    return Tables(demo.report.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def opened(demo: Demo, page: Page) -> Page:
    page.goto(demo.report.resolve().as_uri())
    return page


def _range(demo: Demo, column: str = "timestamp") -> str:
    return f"{column} >= TIMESTAMP '{demo.since:%Y-%m-%d %H:%M:%S}+00' AND {column} < TIMESTAMP '{demo.until:%Y-%m-%d %H:%M:%S}+00'"


def _counts(demo: Demo, sql: str) -> dict[str, int]:
    return {str(row["k"]): int(row["n"]) for row in demo.query(sql)}


def test_every_panel_is_a_drawn_chart(demo: Demo, opened: Page) -> None:
    charts = opened.locator("figure.chart")
    assert charts.count() == len(PANELS)
    assert opened.locator(".empty").count() == 0
    shares = {
        charts.nth(i).get_attribute("data-panel"): coloured_share(charts.nth(i).screenshot())
        for i in range(charts.count())
    }
    assert set(shares) == {p.key for p in PANELS}
    blank = {panel: f"{share:.2%}" for panel, share in shares.items() if share < DRAWN}
    assert not blank, f"charts that look blank: {blank}"
    opened.screenshot(path=str(demo.report.with_suffix(".png")), full_page=True)


def test_the_blank_check_sees_an_undrawn_chart(demo: Demo, page: Page) -> None:
    """The check above can fail: the same page with the charts' marks removed scores below it."""
    page.goto(demo.report.resolve().as_uri())
    page.evaluate("document.querySelectorAll('figure.chart .role-mark').forEach(mark => mark.remove())")
    charts = page.locator("figure.chart")
    shares = [coloured_share(charts.nth(i).screenshot()) for i in range(charts.count())]
    assert max(shares) < DRAWN, [f"{s:.2%}" for s in shares]


def test_stats_equal_sql_counts(demo: Demo, tables: Tables) -> None:
    (counts,) = demo.query(
        f"SELECT COUNT(*) AS requests, COUNTIF(status BETWEEN 400 AND 499) AS status_4xx, "
        f"COUNTIF(status >= 500) AS status_5xx, SUM(response_size) AS bytes, COUNTIF(is_bot) AS bots "
        f"FROM {{d}}.http_requests WHERE {_range(demo)}"
    )
    (errors,) = demo.query(f"SELECT COUNT(*) AS n FROM {{d}}.errors WHERE {_range(demo, 'error_timestamp')}")
    http = [o for o in demo.outcomes if o.kind == "http"]
    assert counts["requests"] == len(http) == number(tables.stats["requests"]) == 400
    assert number(tables.stats["status_4xx"]) == counts["status_4xx"]
    assert number(tables.stats["error_rate"]) == pytest.approx(counts["status_5xx"] / counts["requests"], abs=0.0005)
    assert number(tables.stats["bot_share"]) == pytest.approx(counts["bots"] / counts["requests"], abs=0.0005)
    assert number(tables.stats["error_rows"]) == errors["n"] == 4
    assert f"{counts['bytes']:,} bytes" in demo.report.read_text()


def test_status_classes_per_minute_equal_sql_counts(demo: Demo, tables: Tables) -> None:
    # The page labels minutes with the date too when the range crosses midnight (a demo run at 23:30).
    same_day = Context(demo.since, demo.until, "", demo.until).same_day
    label = "%H:%M" if same_day else "%m-%d %H:%M"
    sql = (
        f"SELECT FORMAT_TIMESTAMP('{label}', timestamp) AS minute, CAST(DIV(status, 100) AS STRING) AS k, COUNT(*) AS n "
        f"FROM {{d}}.http_requests WHERE {_range(demo)} GROUP BY minute, k"
    )
    expected: dict[str, dict[str, int]] = {}
    for row in demo.query(sql):
        expected.setdefault(row["minute"], {})[f"status_{row['k']}xx"] = row["n"]
    shown = {
        row["time"]: {k: int(number(v)) for k, v in row.items() if k.startswith("status_") and v != "0"}
        for row in tables.rows("status")
    }
    assert shown == expected
    assert sum(sum(v.values()) for v in shown.values()) == 400


@pytest.mark.parametrize(
    ("panel", "key", "sql"),
    [
        ("top_paths", "path", "SELECT path AS k, COUNT(*) AS n FROM {d}.http_requests WHERE {r} GROUP BY k"),
        ("not_found", "path", "SELECT path AS k, COUNT(*) AS n FROM {d}.http_requests WHERE {r} AND status = 404 GROUP BY k"),
        ("referrers", "referrer_host", "SELECT NET.HOST(referer) AS k, COUNT(*) AS n FROM {d}.http_requests WHERE {r} AND referer IS NOT NULL GROUP BY k"),
        ("devices", "value", "SELECT ua_device AS k, COUNT(*) AS n FROM {d}.http_requests WHERE {r} GROUP BY k"),
        ("browsers", "value", "SELECT ua_browser AS k, COUNT(*) AS n FROM {d}.http_requests WHERE {r} AND NOT is_bot GROUP BY k"),
        ("operating_systems", "value", "SELECT ua_os AS k, COUNT(*) AS n FROM {d}.http_requests WHERE {r} AND NOT is_bot GROUP BY k"),
        ("bots", "value", "SELECT IF(ua_browser = 'Other', user_agent, ua_browser) AS k, COUNT(*) AS n FROM {d}.http_requests WHERE {r} AND is_bot GROUP BY k"),
    ],
)  # fmt: skip
def test_ranked_tables_equal_sql_counts(demo: Demo, tables: Tables, panel: str, key: str, sql: str) -> None:
    expected = _counts(demo, sql.replace("{r}", _range(demo)))
    shown = {row[key]: int(number(row["requests"])) for row in tables.rows(panel)}
    assert shown == expected  # every value fits the top 10/20 in the demo, so nothing is cut


def test_error_rows_equal_sql_counts(demo: Demo, tables: Tables) -> None:
    expected = _counts(
        demo, f"SELECT reason AS k, COUNT(*) AS n FROM {{d}}.errors WHERE {_range(demo, 'error_timestamp')} GROUP BY k"
    )
    assert {row["reason"]: int(number(row["error_rows"])) for row in tables.rows("error_reasons")} == expected
    assert sum(int(number(row["error_rows"])) for row in tables.rows("errors")) == sum(expected.values()) == 4


def test_latency_by_path_equals_sql_percentiles(demo: Demo, tables: Tables) -> None:
    sql = (
        "SELECT path AS k, ROUND(APPROX_QUANTILES(latency_seconds, 100)[OFFSET(95)] * 1000, 1) AS n "
        f"FROM {{d}}.http_requests WHERE {_range(demo)} GROUP BY k"
    )
    expected = {row["k"]: row["n"] for row in demo.query(sql)}
    for row in tables.rows("latency_by_path"):
        assert number(row["p95_ms"]) == pytest.approx(expected[row["path"]], abs=0.05), row


def test_the_dashboard_queries_run_and_show_the_reports_numbers(demo: Demo, tables: Tables) -> None:
    """Each Grafana panel's SQL, with the variables Grafana would fill, on the same data."""
    variables = {
        "${project}": demo.settings.project or "",
        "${dataset}": demo.settings.bigquery_dataset,
        "${__from}": str(int(demo.since.timestamp() * 1000)),
        "${__to}": str(int(demo.until.timestamp() * 1000)),
    }
    panels = {p.title: p for p in PANELS}
    stats = {s.label: s for s in STATS}
    for shown in grafana.dashboard()["panels"]:
        sql = shown["targets"][0]["rawSql"]
        for name, value in variables.items():
            sql = sql.replace(name, value)
        rows = demo.query(sql)
        if shown["type"] == "stat":
            field = stats[shown["title"]]
            if field.unit == "bytes":  # shown as "9.76 MB", with the exact count beneath
                assert f"{rows[0][field.name]:,} bytes" in demo.report.read_text()
                continue
            assert number(tables.stats[field.name]) == pytest.approx(rows[0][field.name], rel=0.001), field.name
            continue
        panel = panels[shown["title"]]
        table = tables.rows(panel.key)
        for series in panel.series:
            in_grafana = sum(row[series.label] or 0 for row in rows)
            in_report = sum(number(row[series.name]) for row in table if row[series.name] != "—")
            assert in_grafana == pytest.approx(in_report, abs=0.05 * len(table)), (panel.key, series.name)
        if shown["type"] == "barchart":
            assert [str(row[panel.category.label]) for row in rows] == [row[panel.category.name] for row in table]
