"""The report's questions: BigQuery table functions `name(since TIMESTAMP, until TIMESTAMP)`.

Each is one SQL file in terraform/sql/report/, the body of a table function over the
de-duplicated rows (`<requests table>_dedup`) and the errors table, filtered on the
partitioning column by the time range so that BigQuery reads only those days. Terraform
creates them with `templatefile()`; locally (and for a gcloud-deployed stack)
sinks/report.py creates them from the same files with the same substitution, and the report
and the Grafana dashboard call them unchanged.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

from functions.config import Settings

SQL_DIR = Path(__file__).resolve().parent.parent / "terraform" / "sql" / "report"
ARGUMENTS = (("since", "TIMESTAMP"), ("until", "TIMESTAMP"))  # [since, until): since included


@dataclass(frozen=True, slots=True)
class Names:
    """Where the questions live and what they read: the variables of the SQL templates."""

    project: str
    dataset: str
    requests_view: str
    errors_table: str

    @classmethod
    def from_settings(cls, settings: Settings, project: str) -> Names:
        return cls(project, settings.bigquery_dataset, settings.bigquery_dedup_view, settings.bigquery_error_table)

    def template_variables(self) -> dict[str, str]:
        return {
            "project": self.project,
            "dataset": self.dataset,
            "requests_view": self.requests_view,
            "errors_table": self.errors_table,
        }

    def routine(self, question: str) -> str:
        """The table function's full name, quoted for a query: `project.dataset.question`."""
        return f"`{self.project}.{self.dataset}.{question}`"


def names() -> tuple[str, ...]:
    """Every question, by name (the SQL file's stem), sorted."""
    return tuple(sorted(path.stem for path in SQL_DIR.glob("*.sql")))


def template(question: str) -> str:
    path = SQL_DIR / f"{question}.sql"
    if not path.is_file():
        raise KeyError(f"no question {question!r}: {path} does not exist")
    return path.read_text()


def body(question: str, where: Names) -> str:
    """The table function's body with its `${...}` names filled, as Terraform's templatefile()
    fills them (the files use no other template syntax; a test checks)."""
    return string.Template(template(question)).substitute(where.template_variables())


def call(question: str, where: Names, since: str = "@since", until: str = "@until") -> str:
    """A query reading one question's answer; `since` and `until` are SQL expressions."""
    return f"SELECT * FROM {where.routine(question)}({since}, {until})"
