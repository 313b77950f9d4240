"""Stores a batch of outcomes in the destinations one function is configured for.

`ingest` writes BigQuery (and the archive only when INGEST_WRITE_ARCHIVE is set: one object
per message is costly); `drain` writes the archive (and BigQuery when DRAIN_WRITE_BIGQUERY
is set). The archive goes first, so a batch whose rows fail is redelivered and its archive
object is found already written (412) rather than written twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from functions.config import Settings
from functions.outcome import Outcome
from sinks.archive import Archiver
from sinks.bigquery import BigQuerySink


class Store:
    def __init__(self, settings: Settings, *, bigquery: bool, archive: bool) -> None:
        self.bigquery = BigQuerySink(settings) if bigquery else None
        self.archiver = Archiver(settings) if archive else None

    def store(self, outcomes: Sequence[Outcome]) -> None:
        """Raises `sinks.errors.RetryableError` when anything was not stored: do not ack."""
        if self.archiver:
            self.archiver.archive(outcomes)
        if self.bigquery:
            self.bigquery.write(outcomes)
