"""deploy/gcloud-deploy.sh creates the report's table functions from the same SQL files,
filled as Terraform fills them, and adds new schema columns to an existing table."""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from google.cloud import bigquery

from functions.config import Settings
from local.emulators import Stack
from report import questions
from sinks.bigquery import BigQuerySink
from sinks.clients import make_bigquery_client
from tests.terraform.test_gcloud_deploy import dry_run

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


def _ddl(commands: list[list[str]]) -> dict[str, str]:
    found = {}
    for command in commands:
        if command[:3] == ["bq", command[1], "query"] and command[-1].startswith("CREATE OR REPLACE TABLE FUNCTION"):
            name = re.search(r"`[^`]+\.(\w+)`\(since TIMESTAMP, until TIMESTAMP\) AS ", command[-1])
            assert name, command[-1]
            found[name.group(1)] = command[-1]
    return found


def _one_line(sql: str) -> str:
    return " ".join(" ".join(line for line in sql.splitlines() if not line.strip().startswith("--")).split())


def test_every_question_becomes_a_table_function(tmp_path: Path) -> None:
    ddl = _ddl(dry_run(tmp_path, DATASET="web", REQUESTS_TABLE="hits", ERRORS_TABLE="bad"))
    assert set(ddl) == set(questions.names())
    where = questions.Names("demo-proj", "web", "hits_dedup", "bad")
    for question, statement in ddl.items():
        head = f"CREATE OR REPLACE TABLE FUNCTION `demo-proj.web.{question}`(since TIMESTAMP, until TIMESTAMP) AS "
        assert " ".join(statement.split()) == head + _one_line(questions.body(question, where))


@pytest.mark.parametrize("question", questions.names())
def test_sql_files_have_no_comment_after_code(question: str) -> None:
    """The script joins each file into one line: a `--` after code would swallow the rest."""
    for line in questions.template(question).splitlines():
        assert "--" not in line or line.strip().startswith("--"), line


@pytest.mark.emulators
def test_the_statements_run_on_the_emulator(tmp_path: Path, stack: Stack) -> None:
    dataset = f"gcloud_{uuid.uuid4().hex[:10]}"
    settings = Settings.from_env({**stack.env(), "BIGQUERY_DATASET": dataset})
    BigQuerySink(settings).ensure()
    client = make_bigquery_client(settings)
    for statement in _ddl(dry_run(tmp_path, PROJECT_ID=str(settings.project), DATASET=dataset)).values():
        client.query(statement).result()
    now = datetime.now(UTC)
    (row,) = client.query(
        f"SELECT requests FROM `{settings.project}.{dataset}.traffic_summary`(@a, @b)",
        job_config=_range(now - timedelta(hours=1), now),
    ).result()
    assert row["requests"] == 0


def _range(since: datetime, until: datetime) -> bigquery.QueryJobConfig:
    return bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter("a", "TIMESTAMP", since),
            bigquery.ScalarQueryParameter("b", "TIMESTAMP", until),
        ]
    )
