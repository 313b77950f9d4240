"""The Grafana dashboard, generated from the report's panels (report/panels.py).

Every panel queries one of the report's table functions through the BigQuery data source
plugin (grafana-bigquery-datasource), with the dashboard's time picker as its range:
`fn(TIMESTAMP_MILLIS(${__from}), TIMESTAMP_MILLIS(${__to}))`. The functions filter the
partitioning column by that range, so a panel reads only the days on screen. Project and
dataset are dashboard variables, the data source a data-source variable, so the same file
works on any stack, imported by hand or provisioned from files (grafana/provisioning/).

    python -m report.grafana     # rewrites grafana/dashboards/logexport.json (a test fails when stale)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from report.panels import PANELS, STATS, SUMMARY_QUESTION, Field, Panel

DASHBOARD_PATH = Path(__file__).resolve().parent.parent / "grafana" / "dashboards" / "logexport.json"
PLUGIN = "grafana-bigquery-datasource"
DATASOURCE = {"type": PLUGIN, "uid": "${datasource}"}
TIME_SERIES, TABLE = 0, 1  # the plugin's query formats
RANGE = "TIMESTAMP_MILLIS(${__from}), TIMESTAMP_MILLIS(${__to})"
UNITS = {"requests": "short", "rows": "short", "ms": "ms", "bytes": "decbytes", "share": "percentunit"}
STAT_WIDTHS = (4, 3, 3, 4, 4, 3, 3)  # seven stats across the 24 columns


def dashboard() -> dict[str, Any]:
    panels = [_stat(i, field, x=sum(STAT_WIDTHS[:i]), width=STAT_WIDTHS[i]) for i, field in enumerate(STATS)]
    for i, panel in enumerate(PANELS):
        grid = {"h": 9, "w": 12, "x": 12 * (i % 2), "y": 4 + 9 * (i // 2)}
        panels.append(_panel(len(panels) + 1, panel, grid))
    return {
        "uid": "logexport-traffic",
        "title": "logexport: HTTP traffic",
        "description": "HTTP requests exported from Cloud Logging by logexport; the same questions as "
        "`python -m functions report` (terraform/sql/report/).",
        "tags": ["logexport", "bigquery", "http"],
        "timezone": "utc",
        "editable": True,
        "graphTooltip": 1,
        "time": {"from": "now-24h", "to": "now"},
        "refresh": "5m",
        "schemaVersion": 41,
        "annotations": {"list": []},
        "templating": {
            "list": [
                {"type": "datasource", "name": "datasource", "label": "BigQuery data source", "query": PLUGIN},
                _textbox("project", "Project", "my-project"),
                _textbox("dataset", "Dataset", "logs"),
            ]
        },
        "panels": panels,
    }


def _textbox(name: str, label: str, default: str) -> dict[str, Any]:
    return {
        "type": "textbox",
        "name": name,
        "label": label,
        "query": default,
        "current": {"text": default, "value": default},
    }


def _routine(question: str) -> str:
    return f"`${{project}}.${{dataset}}.{question}`({RANGE})"


def _target(sql: str, form: int) -> dict[str, Any]:
    return {
        "refId": "A",
        "datasource": DATASOURCE,
        "format": form,
        "rawQuery": True,
        "editorMode": "code",
        "rawSql": sql,
    }


def _column(field: Field) -> str:
    return field.name if field.name == "time" else f"{field.name} AS `{field.label}`"


def _stat(i: int, field: Field, x: int, width: int) -> dict[str, Any]:
    return {
        "id": i + 1,
        "type": "stat",
        "title": field.label,
        "datasource": DATASOURCE,
        "gridPos": {"h": 4, "w": width, "x": x, "y": 0},
        "targets": [_target(f"SELECT {field.name} FROM {_routine(SUMMARY_QUESTION)}", TABLE)],
        "fieldConfig": {"defaults": {"unit": UNITS[field.unit], "decimals": 1 if field.unit in ("ms", "share") else 0}, "overrides": []},
        "options": {
            "graphMode": "none",
            "colorMode": "none",
            "justifyMode": "auto",
            "textMode": "value",
            "wideLayout": True,
            "showPercentChange": False,
            "percentChangeColorMode": "standard",
            "orientation": "auto",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        },
    }  # fmt: skip


def _panel(panel_id: int, panel: Panel, grid: dict[str, int]) -> dict[str, Any]:
    columns = ", ".join(_column(f) for f in (panel.category, *panel.series))
    where = f" WHERE dimension = '{panel.dimension}'" if panel.dimension else ""
    order = "time" if panel.kind != "bars" else f"{panel.rank} DESC"
    sql = f"SELECT {columns} FROM {_routine(panel.question)}{where} ORDER BY {order}"
    unit = UNITS[panel.series[0].unit]
    common = {
        "id": panel_id,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": grid,
    }
    legend = {"displayMode": "list", "placement": "bottom", "showLegend": len(panel.series) > 1, "calcs": []}
    tooltip = {"mode": "multi", "sort": "desc"}
    if panel.kind == "bars":
        return {
            **common,
            "type": "barchart",
            "targets": [_target(sql, TABLE)],
            "fieldConfig": {"defaults": {"unit": unit, "custom": {"fillOpacity": 80, "lineWidth": 1}}, "overrides": []},
            "options": {
                "xField": panel.category.label,
                "orientation": "horizontal",
                "xTickLabelRotation": 0,
                "xTickLabelMaxLength": 40,
                "stacking": "none",
                "showValue": "auto",
                "barWidth": 0.8,
                "groupWidth": 0.7,
                "fullHighlight": False,
                "legend": legend,
                "tooltip": tooltip,
            },
        }
    bars = panel.kind == "time_bars"
    custom: dict[str, Any] = {
        "drawStyle": "bars" if bars else "line",
        "fillOpacity": 80 if bars else 10,
        "lineWidth": 1,
    }
    if bars and len(panel.series) > 1:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    return {
        **common,
        "type": "timeseries",
        "targets": [_target(sql, TIME_SERIES)],
        "fieldConfig": {"defaults": {"unit": unit, "custom": custom}, "overrides": []},
        "options": {"legend": legend, "tooltip": tooltip},
    }


def write(path: Path = DASHBOARD_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dashboard(), indent=2) + "\n")
    return path


if __name__ == "__main__":
    print(write())
