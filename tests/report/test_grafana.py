"""The Grafana dashboard: generated from the report's panels, valid against Grafana 11.6's
JSON Schemas (../shared/grafana-schema, Draft 7), every query a call of a report question with
the time picker's range, and provisioned from files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from report import grafana, questions
from report.panels import PANELS, STATS

SCHEMAS = Path(__file__).resolve().parents[2].parent / "shared" / "grafana-schema"
PROVISIONING = grafana.DASHBOARD_PATH.parent.parent / "provisioning"
needs_schemas = pytest.mark.skipif(
    not (SCHEMAS / "dashboard.jsonschema.json").is_file(),
    reason=f"Grafana's JSON Schemas are not at {SCHEMAS} (the shared folder beside the repository)",
)


def _dashboard() -> dict[str, Any]:
    return json.loads(grafana.DASHBOARD_PATH.read_text())  # type: ignore[no-any-return]


def _validator(name: str, definition: str | None = None) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMAS / f"{name}.jsonschema.json").read_text())
    if definition is not None:
        schema = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.Draft7Validator, instance: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(instance)]


def test_the_file_is_what_the_panels_generate() -> None:
    assert _dashboard() == grafana.dashboard(), "stale: run `python -m report.grafana`"


@needs_schemas
def test_dashboard_validates() -> None:
    assert _errors(_validator("dashboard"), _dashboard()) == []


@needs_schemas
def test_every_target_is_a_valid_bigquery_query() -> None:
    validator = _validator("bigquery")
    for panel in _dashboard()["panels"]:
        for target in panel["targets"]:
            assert _errors(validator, target) == [], panel["title"]


@needs_schemas
def test_every_panel_options_validate_against_its_kind() -> None:
    kinds = {panel["type"] for panel in _dashboard()["panels"]}
    assert kinds == {"stat", "timeseries", "barchart"}
    validators = {kind: _validator(kind, "Options") for kind in kinds}
    for panel in _dashboard()["panels"]:
        assert _errors(validators[panel["type"]], panel["options"]) == [], panel["title"]


@needs_schemas
def test_the_schema_check_fails_on_a_broken_dashboard() -> None:
    broken = _dashboard()
    del broken["schemaVersion"]
    broken["panels"][0]["gridPos"]["w"] = "wide"
    broken["panels"][0]["targets"][0]["format"] = "table"
    errors = _errors(_validator("dashboard"), broken)
    assert any("schemaVersion" in e for e in errors) and any("gridPos" in e for e in errors)
    assert _errors(_validator("bigquery"), broken["panels"][0]["targets"][0])


def test_every_query_calls_a_question_with_the_time_picker_range() -> None:
    used = set()
    for panel in _dashboard()["panels"]:
        (target,) = panel["targets"]
        sql = target["rawSql"]
        assert target["datasource"] == {"type": "grafana-bigquery-datasource", "uid": "${datasource}"}
        assert "(TIMESTAMP_MILLIS(${__from}), TIMESTAMP_MILLIS(${__to}))" in sql, sql
        called = [q for q in questions.names() if f"`${{project}}.${{dataset}}.{q}`(" in sql]
        assert len(called) == 1, sql
        used.update(called)
    assert used == set(questions.names())
    assert len(_dashboard()["panels"]) == len(STATS) + len(PANELS)


def test_variables_pick_the_data_source_project_and_dataset() -> None:
    variables = {v["name"]: v for v in _dashboard()["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "grafana-bigquery-datasource"
    assert (variables["project"]["type"], variables["dataset"]["current"]["value"]) == ("textbox", "logs")


def test_panels_do_not_overlap() -> None:
    cells: set[tuple[int, int]] = set()
    for panel in _dashboard()["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        area = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & area, panel["title"]
        cells |= area


def test_provisioning_files() -> None:
    dashboards = yaml.safe_load((PROVISIONING / "dashboards" / "logexport.yaml").read_text())
    (provider,) = dashboards["providers"]
    assert dashboards["apiVersion"] == 1 and provider["type"] == "file" and provider["options"]["path"]
    sources = yaml.safe_load((PROVISIONING / "datasources" / "bigquery.yaml").read_text())
    (source,) = sources["datasources"]
    assert source["type"] == "grafana-bigquery-datasource"
    assert source["jsonData"]["authenticationType"] in ("gce", "jwt")
