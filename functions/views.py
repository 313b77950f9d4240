"""The one definition of each BigQuery view this project creates.

Each view is GoogleSQL with `${name}` placeholders. `python -m functions schemas` writes it to
terraform/sql/<view>.sql, which Terraform fills with templatefile(); the local `ensure()`
path fills the same text with `render()`. A test fails when the files are stale, so what
runs locally is what is deployed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")
HEADER = "-- Generated from functions/views.py by `python -m functions schemas`: edit it there.\n"


@dataclass(frozen=True, slots=True)
class View:
    name: str
    description: str
    template: str

    @property
    def file_text(self) -> str:
        """terraform/sql/<name>.sql: a comment saying where it comes from, then the query."""
        return HEADER + self.template

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(_PLACEHOLDER.findall(self.template))

    def render(self, **values: str) -> str:
        """The file's text with every placeholder filled, as Terraform's templatefile() fills it."""
        missing = self.placeholders - set(values)
        unknown = set(values) - self.placeholders
        if missing or unknown:
            raise ValueError(f"{self.name}: missing {sorted(missing)}, unknown {sorted(unknown)}")
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], self.file_text)


# Deliveries are at-least-once, so a LogEntry can land more than once. Cloud Logging
# identifies an entry by its log name, insertId and timestamp (two entries may share an
# insertId when their timestamps differ); an entry without insertId is identified by its
# Pub/Sub message id, which a redelivery keeps. The first delivery (publish time) wins.
#
# `timestamp` (the table's partitioning column) comes first in PARTITION BY on purpose.
# BigQuery prunes partitions only for a filter on the partitioning column that reaches the
# table scan (https://cloud.google.com/bigquery/docs/querying-partitioned-tables: "If a query
# uses a qualifying filter on the value of the partitioning column, BigQuery can scan the
# partitions that match the filter"). A filter on a column of the window's PARTITION BY only
# drops whole window partitions and leaves the others' row numbers as they are, so it may be
# applied below the window, on the scan. A filter on any other column would change which row
# is first and cannot move below the window: a query on the view would read every partition,
# and with require_partition_filter it would be refused ("Cannot query over table ...
# without a filter over column(s) 'timestamp' that can be used for partition elimination").
HTTP_REQUESTS_DEDUP = View(
    name="http_requests_dedup",
    description="One row per Cloud Logging entry (log name, insertId, timestamp) of the requests table.",
    template="""\
SELECT * EXCEPT (_delivery)
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (
      PARTITION BY
        timestamp,
        log_name,
        insert_id,
        CASE WHEN insert_id IS NULL THEN COALESCE(message_id, GENERATE_UUID()) END
      ORDER BY publish_time, message_id
    ) AS _delivery
  FROM `${requests_table}`
)
WHERE _delivery = 1
""",
)

VIEWS: tuple[View, ...] = (HTTP_REQUESTS_DEDUP,)

SQL_DIR = Path(__file__).resolve().parent.parent / "terraform" / "sql"


def write_view_files(directory: Path = SQL_DIR) -> list[Path]:
    """Writes `<view>.sql` for every view; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for view in VIEWS:
        path = directory / f"{view.name}.sql"
        path.write_text(view.file_text)
        paths.append(path)
    return paths
