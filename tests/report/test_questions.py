"""The report's questions (terraform/sql/report/*.sql): templates both Terraform and Python
fill the same way, each reading only the partitions of its time range."""

from __future__ import annotations

import re

import pytest

from report import questions
from report.panels import PANELS, SUMMARY_QUESTION

WHERE = questions.Names("proj", "logs", "http_requests_dedup", "errors")
# What the files may say: ${name} of the four variables; no other `$` and no `%{` directive,
# so that Terraform's templatefile() and string.Template give the same text.
TEMPLATE_SYNTAX = re.compile(r"\$\{?\w*\}?|%\{")


def test_the_questions_are_the_files() -> None:
    assert questions.names() == tuple(sorted(p.stem for p in questions.SQL_DIR.glob("*.sql")))
    assert set(questions.names()) == {p.question for p in PANELS} | {SUMMARY_QUESTION}


@pytest.mark.parametrize("question", questions.names())
def test_templates_use_only_the_four_names(question: str) -> None:
    found = set(TEMPLATE_SYNTAX.findall(questions.template(question)))
    assert found <= {"${project}", "${dataset}", "${requests_view}", "${errors_table}"}, found


@pytest.mark.parametrize("question", questions.names())
def test_every_source_is_read_for_the_range_only(question: str) -> None:
    """Each table or view read is followed by the filter on its partitioning column, so
    BigQuery prunes the partitions outside [since, until)."""
    body = questions.body(question, WHERE)
    sources = re.findall(r"FROM `proj\.logs\.(\w+)`(?: AS (\w+))?\s*(?:CROSS JOIN \w+ AS \w+\s*)?WHERE ([^\n]*)", body)
    assert sources, body
    assert len(sources) == body.count("FROM `proj.logs.")
    for table, alias, condition in sources:
        column = {"http_requests_dedup": "timestamp", "errors": "error_timestamp"}[table]
        prefix = f"{alias}." if alias else ""
        assert f"{prefix}{column} >= since AND {prefix}{column} < until" in condition, (table, condition)


def test_body_fills_the_names_and_leaves_no_template() -> None:
    body = questions.body("top_paths", WHERE)
    assert "FROM `proj.logs.http_requests_dedup`" in body and "$" not in body


def test_names_follow_the_settings() -> None:
    from functions.config import Settings  # noqa: PLC0415

    settings = Settings.from_env({"BIGQUERY_DATASET": "web", "BIGQUERY_TABLE": "hits", "BIGQUERY_ERROR_TABLE": "bad"})
    where = questions.Names.from_settings(settings, "p1")
    assert where.template_variables() == {
        "project": "p1",
        "dataset": "web",
        "requests_view": "hits_dedup",
        "errors_table": "bad",
    }
    assert questions.call("user_agents", where) == "SELECT * FROM `p1.web.user_agents`(@since, @until)"


def test_an_unknown_question_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="no question 'nope'"):
        questions.template("nope")
