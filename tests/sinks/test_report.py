"""sinks/report.py on local-bigquery: the table functions created through the routines API
(as Terraform's google_bigquery_routine does), replaced in place, and a clear error when
they are missing.

local-bigquery 0.4.0 takes table functions through the routines API and CREATE TABLE
FUNCTION, but not a body that starts with WITH: the SQL files wrap theirs in a subquery,
which BigQuery accepts too."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from functions.config import Settings
from local.emulators import ROOT, Stack
from report import questions
from sinks.bigquery import BigQuerySink
from sinks.clients import make_bigquery_client
from sinks.report import MissingQuestionError, ReportSource

pytestmark = pytest.mark.emulators


@pytest.fixture
def env(stack: Stack) -> dict[str, str]:
    env = {**stack.env(), "BIGQUERY_DATASET": f"report_{uuid.uuid4().hex[:10]}"}
    BigQuerySink(Settings.from_env(env)).ensure()
    return env


def test_install_creates_then_replaces_every_function(env: dict[str, str]) -> None:
    settings = Settings.from_env(env)
    source = ReportSource(settings, progress=lambda _: None)
    assert len(source.install()) == len(questions.names())
    client = make_bigquery_client(settings)
    routines = {r.routine_id: r for r in client.list_routines(settings.bigquery_dataset)}
    assert set(routines) == set(questions.names())
    assert source.install() == [source.where.routine(q) for q in questions.names()]  # again: replaced, not refused
    routine = client.get_routine(f"{settings.project}.{settings.bigquery_dataset}.top_paths")
    assert routine.type_ == "TABLE_VALUED_FUNCTION"
    assert [a.name for a in routine.arguments] == ["since", "until"]
    now = datetime.now(UTC)
    answers = source.answers(now - timedelta(hours=1), now)
    assert answers["traffic_summary"][0]["requests"] == 0
    assert all(answers[q] == [] for q in questions.names() if q != "traffic_summary")


def test_missing_functions_are_named_with_the_fix(env: dict[str, str]) -> None:
    source = ReportSource(Settings.from_env(env), progress=lambda _: None)
    now = datetime.now(UTC)
    with pytest.raises(MissingQuestionError, match=r"terraform apply.*--install-functions"):
        source.answers(now - timedelta(hours=1), now)
    result = subprocess.run(
        [sys.executable, "-m", "functions", "report", "--since", "1h", "--out", os.devnull],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("report: table function `test-project.")
    assert "Traceback" not in result.stderr


def test_a_missing_dataset_is_one_line_and_exit_1(stack: Stack) -> None:
    """(local-bigquery names the function; BigQuery names the dataset: either way one line.)"""
    env = {**stack.env(), "BIGQUERY_DATASET": f"absent_{uuid.uuid4().hex[:8]}"}
    result = subprocess.run(
        [sys.executable, "-m", "functions", "report", "--since", "1h", "--out", os.devnull],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("report: ")
    assert "absent_" in result.stderr and "Traceback" not in result.stderr
