"""Runs the report's questions on BigQuery (or local-bigquery): the report's only I/O.

`install` creates or replaces the table functions from terraform/sql/report/ through the
routines API, as Terraform's google_bigquery_routine does; it is for the local emulator and
for stacks deployed without Terraform. `answers` calls each one for a time range, with the
range as query parameters, and returns its rows as plain dicts.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.api_core import exceptions
from google.cloud import bigquery

from functions.config import Settings
from report import questions
from sinks.clients import make_bigquery_client

Answers = dict[str, list[dict[str, Any]]]


class MissingQuestionError(RuntimeError):
    """A table function is not in the dataset: Terraform (or --install-functions) creates them."""


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class ReportSource:
    def __init__(self, settings: Settings, progress: Callable[[str], None] = _stderr) -> None:
        self.client = make_bigquery_client(settings)
        self.where = questions.Names.from_settings(settings, settings.project or self.client.project)
        self.progress = progress

    def install(self) -> list[str]:
        """Creates or replaces every table function; returns their full names."""
        installed = []
        for question in questions.names():
            routine = bigquery.Routine(
                f"{self.where.project}.{self.where.dataset}.{question}",
                type_="TABLE_VALUED_FUNCTION",
                language="SQL",
                body=questions.body(question, self.where),
                arguments=[
                    bigquery.RoutineArgument(
                        name=name, data_type=bigquery.StandardSqlDataType(type_kind=bigquery.StandardSqlTypeNames[kind])
                    )
                    for name, kind in questions.ARGUMENTS
                ],
                description=f"logexport report: {question} over [since, until) (terraform/sql/report/{question}.sql)",
            )
            try:
                self.client.create_routine(routine)
            except exceptions.Conflict:
                self.client.update_routine(routine, ["body", "arguments", "description", "type_", "language"])
            installed.append(self.where.routine(question))
        self.progress(f"report: {len(installed)} table functions in {self.where.project}.{self.where.dataset}")
        return installed

    def answers(self, since: datetime, until: datetime) -> Answers:
        """Every question's rows for [since, until)."""
        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter("since", "TIMESTAMP", since),
                bigquery.ScalarQueryParameter("until", "TIMESTAMP", until),
            ]
        )
        out: Answers = {}
        for question in questions.names():
            started = time.monotonic()
            try:
                rows = self.client.query(questions.call(question, self.where), job_config=config).result()
            except (exceptions.NotFound, exceptions.BadRequest) as error:
                if "not found" in str(error).lower() and question in str(error):
                    raise MissingQuestionError(
                        f"table function {self.where.routine(question)} not found: `terraform apply` creates "
                        "the report's functions, or run the report once with --install-functions"
                    ) from error
                raise
            out[question] = [dict(row.items()) for row in rows]
            self.progress(f"report: {question}: {len(out[question])} rows in {time.monotonic() - started:.2f}s")
        return out
