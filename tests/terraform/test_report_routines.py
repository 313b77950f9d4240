"""report.tf: one table function per SQL file, `fn(since TIMESTAMP, until TIMESTAMP)`,
whose body Terraform renders exactly as the report's Python side does (report/questions.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from report import questions
from tests.terraform.hcl import TF_DIR, Module, expr
from tests.terraform.test_log_filter import TERRAFORM

WHERE = questions.Names("demo-proj", "logs", "http_requests_dedup", "errors")


def test_one_routine_per_sql_file(root: Module) -> None:
    routine = root.resource("google_bigquery_routine", "report")
    assert expr(routine["for_each"]) == "local.report_functions"
    assert 'fileset("${path.module}/sql/report", "*.sql")' in expr(root.local("report_functions"))
    assert (routine["routine_type"], routine["language"]) == ("TABLE_VALUED_FUNCTION", "SQL")
    assert expr(routine["dataset_id"]) == "google_bigquery_dataset.logs.dataset_id"


def test_arguments_are_the_time_range(root: Module) -> None:
    routine = root.resource("google_bigquery_routine", "report")
    arguments = [(a["name"], expr(a["data_type"])) for a in routine["arguments"]]
    assert arguments == [(name, f'jsonencode({{"typeKind": "{kind}"}})') for name, kind in questions.ARGUMENTS]


def test_the_template_reads_the_dedup_view_and_the_errors_table(root: Module) -> None:
    body = expr(root.resource("google_bigquery_routine", "report")["definition_body"])
    assert '"requests_view": "${google_bigquery_table.http_requests_dedup.table_id}"' in body
    assert '"errors_table": "${google_bigquery_table.errors.table_id}"' in body
    for name in WHERE.template_variables():
        assert f'"{name}":' in body


@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")
def test_terraform_renders_the_bodies_as_python_does(tmp_path: Path) -> None:
    variables = ", ".join(f'{k} = "{v}"' for k, v in WHERE.template_variables().items())
    sql_dir = TF_DIR / "sql" / "report"
    expression = f'jsonencode({{for f in fileset("{sql_dir}", "*.sql") : trimsuffix(f, ".sql") => templatefile("{sql_dir}/${{f}}", {{{variables}}})}})'
    result = subprocess.run(
        [str(TERRAFORM), "console"],
        input=expression,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )  # an empty directory: templatefile() needs no provider
    rendered = json.loads(json.loads(result.stdout.strip()))
    assert rendered == {q: questions.body(q, WHERE) for q in questions.names()}
