"""The traffic report as one self-contained HTML page: no script, no external resource.

Each panel of report/panels.py becomes a chart (Vega-Lite through Altair, drawn to SVG by
vl-convert, in this process, offline) with a table of the numbers it draws beside it. The
page opens anywhere, from a file, a bucket or an e-mail attachment, and prints well.
Pure: answers in, text out.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from report.panels import PANELS, STATS, SUMMARY_QUESTION, Field, Panel

Row = dict[str, Any]
Answers = dict[str, list[Row]]

CHART_WIDTH = 520
FONT = "DejaVu Sans, Helvetica Neue, Arial, sans-serif"
STATUS_COLOURS = {"2xx": "#4c9a2a", "3xx": "#3b7dd8", "4xx": "#f0a30a", "5xx": "#d9342b", "other": "#8c8c8c"}
SERIES_COLOURS = ("#3b7dd8", "#f0a30a", "#d9342b", "#4c9a2a", "#8e5ea2")


@dataclass(frozen=True, slots=True)
class Context:
    """What the page says about itself: the range, where the numbers come from, when."""

    since: datetime
    until: datetime
    source: str  # e.g. "BigQuery project.dataset"
    generated: datetime

    @property
    def same_day(self) -> bool:
        return (self.until - timedelta(microseconds=1)).date() == self.since.date()


def render(answers: Answers, context: Context) -> str:
    """The whole page."""
    summary = (answers.get(SUMMARY_QUESTION) or [{}])[0]
    sections = "\n".join(_section(panel, rows_of(panel, answers), context) for panel in PANELS)
    return _PAGE.format(
        title=html.escape(f"Traffic {_when(context.since)} to {_when(context.until)} UTC"),
        range=html.escape(f"{_when(context.since)} → {_when(context.until)} UTC ({_duration(context.until - context.since)})"),
        source=html.escape(context.source),
        generated=html.escape(_when(context.generated)),
        stats="\n".join(_stat(field, summary.get(field.name)) for field in STATS),
        sections=sections,
        css=_CSS,
    )  # fmt: skip


def rows_of(panel: Panel, answers: Answers) -> list[Row]:
    """The rows a panel draws: its dimension's, in time order for time panels, and only those
    where some series has a value (a bucket with error rows only has no latency)."""
    rows = answers.get(panel.question, [])
    if panel.dimension is not None:
        rows = [r for r in rows if r.get("dimension") == panel.dimension]
    rows = [r for r in rows if any(r.get(s.name) not in (None, 0) for s in panel.series)]
    if panel.kind != "bars":
        rows = sorted(rows, key=lambda r: r["time"])
    return rows


def _section(panel: Panel, rows: list[Row], context: Context) -> str:
    if rows:
        body = (
            f'<figure class="chart" data-panel="{panel.key}">{_svg(panel, rows, context)}</figure>\n'
            f'<div class="numbers">{_table(panel, rows, context)}</div>'
        )
    else:
        body = f'<p class="empty" data-panel="{panel.key}">Nothing in this range.</p>'
    return (
        f'<section class="panel" id="{panel.key}">\n<h2>{html.escape(panel.title)}</h2>\n'
        f'<p class="description">{html.escape(panel.description)}</p>\n<div class="body">\n{body}\n</div>\n</section>'
    )


def _table(panel: Panel, rows: list[Row], context: Context) -> str:
    head = "".join(f'<th data-column="{c.name}">{html.escape(c.label)}</th>' for c in panel.columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(c, row.get(c.name), context))}</td>" for c in panel.columns) + "</tr>"
        for row in rows
    )
    return f'<table data-panel="{panel.key}" data-question="{panel.question}">\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>'


def _cell(field: Field, value: Any, context: Context) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
        return (
            moment.strftime("%H:%M" if context.same_day else "%m-%d %H:%M")
            if field.name == "time"
            else str(moment)[:19]
        )
    if field.unit == "share":
        return f"{value * 100:.1f}%"
    if field.unit == "ms":
        return f"{value:.1f}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{int(value):,}"
    return str(value)


def _stat(field: Field, value: Any) -> str:
    exact = ""
    if value is None:
        shown = "—"
    elif field.unit == "share":
        shown = f"{value * 100:.1f}%"
    elif field.unit == "ms":
        shown = f"{value:.1f} ms"
    elif field.unit == "bytes":
        shown, exact = _bytes(value), f"{int(value):,} bytes"
    else:
        shown = f"{int(value):,}"
    return (
        f'<div class="stat" data-stat="{field.name}"><div class="value">{html.escape(shown)}</div>'
        f'<div class="label">{html.escape(field.label)}</div>'
        + (f'<div class="exact">{html.escape(exact)}</div>' if exact else "")
        + "</div>"
    )


def _bytes(value: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


# -- charts ------------------------------------------------------------------------------------


def _svg(panel: Panel, rows: list[Row], context: Context) -> str:
    import vl_convert  # noqa: PLC0415  # heavy (a JavaScript engine): only when drawing

    svg: str = vl_convert.vegalite_to_svg(spec(panel, rows, context), allowed_base_urls=[])  # inline data only
    return svg[svg.index("<svg") :]


def spec(panel: Panel, rows: list[Row], context: Context) -> dict[str, Any]:
    """The Vega-Lite specification of one panel's chart."""
    import altair as alt  # noqa: PLC0415  # only the report needs it

    labels = [s.label for s in panel.series]
    colours = [STATUS_COLOURS.get(label, SERIES_COLOURS[i % len(SERIES_COLOURS)]) for i, label in enumerate(labels)]
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=labels, range=colours),
        legend=alt.Legend(title=None, orient="top") if len(labels) > 1 else None,
    )
    counted = panel.series[0].unit in ("requests", "rows")
    value_axis = alt.Axis(title=_unit_title(panel.series[0]), format="~s", tickMinStep=1 if counted else alt.Undefined)
    if panel.kind == "bars":
        categories = [str(r[panel.category.name]) for r in rows]
        values = [
            {"category": str(r[panel.category.name]), "series": s.label, "value": r.get(s.name)}
            for r in rows
            for s in panel.series
        ]
        chart = (
            alt.Chart(alt.InlineData(values=values))
            .mark_bar()
            .encode(
                y=alt.Y("category:N", sort=categories, title=None, axis=alt.Axis(labelLimit=220)),
                x=alt.X("value:Q", axis=value_axis),
                color=colour,
                **({"yOffset": alt.YOffset("series:N", sort=labels)} if len(labels) > 1 else {}),
            )
            .properties(width=CHART_WIDTH - 240, height=max(60, len(values) * (14 if len(labels) > 1 else 20)))
        )
    else:
        bucket = timedelta(seconds=int(rows[0].get("bucket_seconds") or 60))
        values = []
        for r in rows:
            low = 0.0  # bars are stacked here: Vega-Lite does not stack bars that span [time, end)
            for s in panel.series:
                value = r.get(s.name)
                high = low + (value or 0) if panel.kind == "time_bars" else value
                values.append({"time": _iso(r["time"]), "end": _iso(r["time"] + bucket), "series": s.label,
                               "value": value, "low": low, "high": high})  # fmt: skip
                low = high or 0.0
        time_axis = alt.X(
            "time:T",
            title=None,
            scale=alt.Scale(type="utc", domain=[_iso(context.since), _iso(context.until)]),
            axis=alt.Axis(format="%H:%M" if context.same_day else "%m-%d %H:%M", labelOverlap=True),
        )
        base = alt.Chart(alt.InlineData(values=values))
        if panel.kind == "time_bars":
            chart = base.mark_bar().encode(
                x=time_axis, x2="end:T", y=alt.Y("low:Q", axis=value_axis), y2="high:Q", color=colour
            )
        else:
            chart = base.mark_line(point=alt.OverlayMarkDef(size=12)).encode(
                x=time_axis, y=alt.Y("value:Q", axis=value_axis), color=colour
            )
        chart = chart.properties(width=CHART_WIDTH, height=200)
    # DejaVu Sans: the font vl-convert measures labels with here and Chromium draws them with.
    return chart.configure_view(stroke=None).configure(font=FONT).to_dict()  # type: ignore[no-any-return]


def _unit_title(field: Field) -> str:
    return {"ms": "milliseconds", "bytes": "bytes", "rows": "error rows", "share": "share"}.get(field.unit, "requests")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _duration(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts: Sequence[tuple[int, str]] = ((days, "d"), (hours, "h"), (minutes, "min"))
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "under a minute"


_CSS = """
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; margin: 24px 32px; color: #1f2328; }
header h1 { font-size: 22px; margin: 0 0 4px; }
header p { margin: 2px 0; color: #57606a; font-size: 13px; }
.stats { display: flex; flex-wrap: wrap; gap: 12px; margin: 18px 0 8px; }
.stat { border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; min-width: 120px; }
.stat .value { font-size: 22px; font-weight: bold; }
.stat .label, .stat .exact { font-size: 12px; color: #57606a; }
.panel { border-top: 1px solid #d0d7de; padding: 12px 0 6px; break-inside: avoid; }
.panel h2 { font-size: 17px; margin: 0; }
.description { font-size: 12px; color: #57606a; margin: 2px 0 8px; }
.body { display: flex; gap: 24px; align-items: flex-start; }
.chart { margin: 0; flex: none; }
.numbers { max-height: 320px; overflow-y: auto; flex: 1; }
table { border-collapse: collapse; font-size: 12px; width: 100%; }
th, td { padding: 2px 8px; border-bottom: 1px solid #eaeef2; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; white-space: normal; word-break: break-all; }
thead th { position: sticky; top: 0; background: #f6f8fa; }
.empty { color: #57606a; font-style: italic; }
footer { margin-top: 16px; font-size: 12px; color: #57606a; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<header>
<h1>HTTP traffic</h1>
<p>{range}</p>
<p>Source: {source}; requests de-duplicated. Generated {generated} UTC by logexport.</p>
</header>
<div class="stats">
{stats}
</div>
{sections}
<footer>Every chart's numbers are in the table beside it. Questions: terraform/sql/report/*.sql.</footer>
</body>
</html>
"""
