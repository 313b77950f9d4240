"""Replay's I/O: read the archive from Cloud Storage, stage the re-derived rows in BigQuery, and
replace each day's rows in one transaction. The one-machine command (`python -m functions
replay`) and the Beam pipeline (beam/replay_pipeline.py) share every piece here.

How a day is replaced:
- Rows go to two staging tables of the run (`<table>_replay_<run>`, expiring after a day so a
  crashed run leaves nothing behind) through **load jobs** of NDJSON bytes: free on BigQuery,
  atomic per job, no streaming quota, and the rows can be read by DML at once. The staging
  tables type JSON columns as STRING (PARSE_JSON on the way in) so that the load reads exactly
  the row values the live writers send, and add `_replay_source` (`gs://object#line`).
- One script per day: `BEGIN TRANSACTION; DELETE ...; INSERT ... SELECT ...; DELETE ...;
  INSERT ...; COMMIT TRANSACTION;`. A reader sees the old day or the new one; a failing
  statement rolls the whole day back.
- What is replaced: the `http_requests` rows of the day (by `DATE(timestamp)`) of the logs that
  have archive objects that day, and the `errors` rows that an earlier replay of the same
  archive directories wrote (their `subscription` is the object URI, their `error_timestamp` the
  object's hour). Error rows of the live functions are history and are kept.
- The INSERT keeps one row per entry identity (log_name, insertId, timestamp), one per archive
  line for entries without insertId: an entry archived twice (the archive is at-least-once) or a
  staged batch written twice (a retried Beam bundle) gives one row.
"""

from __future__ import annotations

import gzip
import io
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any, TextIO

import orjson
from google.cloud import bigquery, storage  # type: ignore[attr-defined]  # storage is untyped

from functions.config import ConfigError, Settings
from functions.outcome import Outcome, Row
from functions.replay import (
    ERRORS_DIR,
    ArchiveObject,
    DayReplay,
    ReplayError,
    archive_lines,
    archive_object,
    open_days,
    replay_line,
)
from functions.schema import ERRORS, HTTP_REQUESTS, Table
from sinks.archive import log_dir
from sinks.clients import make_bigquery_client, make_storage_client

SOURCE_COLUMN = "_replay_source"
STAGING_HOURS = 24
DEFAULT_SETTLE = timedelta(minutes=60)
LOAD_BYTES = 64 * 1024 * 1024  # a staged load job is sent once this much NDJSON is buffered


class Archive:
    """The archive objects of one bucket and prefix (sinks/archive.py writes them)."""

    def __init__(self, settings: Settings, bucket: str, prefix: str) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self._settings = settings
        self._client: storage.Client | None = None

    def _storage(self) -> storage.Client:
        if self._client is None:
            self._client = make_storage_client(self._settings)
        return self._client

    def _base(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    def log_dirs(self) -> list[str]:
        """Every log directory under the prefix (listing with a delimiter: one call per 1,000 logs)."""
        blobs = self._storage().list_blobs(self.bucket, prefix=self._base(), delimiter="/")
        for _ in blobs.pages:
            pass  # prefixes fill in as the pages are read
        return sorted(p[len(self._base()) :].rstrip("/") for p in blobs.prefixes)

    def objects(self, day: str, log_dirs: Iterable[str]) -> list[ArchiveObject]:
        """The objects of `day` in the given log directories, `_errors/` excluded, in name order."""
        found = []
        for directory in sorted(set(log_dirs)):
            day_prefix = f"{self._base()}{directory}/dt={day}/"
            for blob in self._storage().list_blobs(self.bucket, prefix=day_prefix):
                obj = archive_object(self.bucket, self.prefix, blob.name)
                if obj is not None:
                    found.append(obj)
        return sorted(found, key=lambda o: o.uri)

    def read(self, obj: ArchiveObject) -> bytes:
        """The object's NDJSON, decompressed here (raw download: no transcoding surprises)."""
        name = obj.uri.removeprefix(f"gs://{self.bucket}/")
        body: bytes = self._storage().bucket(self.bucket).blob(name).download_as_bytes(raw_download=True)
        return gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body


def log_dirs_for(archive: Archive, log_ids: list[str] | None) -> list[str]:
    """The directories to replay: those of the given log ids, else every log's."""
    if not log_ids:
        return [d for d in archive.log_dirs() if d != ERRORS_DIR]
    return [log_dir(i) for i in log_ids]  # the archiver's own encoding of a log id


@dataclass(frozen=True, slots=True)
class StagedRow:
    """A row on its way to a staging table."""

    table: str  # HTTP_REQUESTS.name or ERRORS.name
    row: Row


def replay_object(archive: Archive, obj: ArchiveObject, tally: DayReplay) -> Iterator[StagedRow]:
    """Reads one object and yields the rows of its entries for `tally.day` (counting everything)."""
    tally.add_object(obj)
    for number, line in enumerate(archive_lines(archive.read(obj))):
        outcome = replay_line(line, obj)
        if tally.add(outcome):
            yield staged(outcome, f"{obj.uri}#{number}")


def staged(outcome: Outcome, source: str) -> StagedRow:
    assert outcome.row is not None  # only outcomes with a row are staged
    table = HTTP_REQUESTS.name if outcome.kind == "http" else ERRORS.name
    return StagedRow(table, {**outcome.row, SOURCE_COLUMN: source})


def staging_schema(table: Table) -> list[bigquery.SchemaField]:
    """The table's columns (JSON as STRING: PARSE_JSON on insert) plus the row's archive source."""
    fields = [
        bigquery.SchemaField(c.name, "STRING" if c.type == "JSON" else c.type, mode=c.mode) for c in table.columns
    ]
    return [*fields, bigquery.SchemaField(SOURCE_COLUMN, "STRING", mode="REQUIRED")]


@dataclass(slots=True)
class DayCounts:
    """What the destination holds for a day's scope before the replay."""

    rows: int = 0
    reasons: Counter[str] = field(default_factory=Counter)


class Tables:
    """The destination tables and this run's staging tables."""

    def __init__(self, settings: Settings, run_id: str | None = None) -> None:
        self.settings = settings
        self.run_id = run_id or datetime.now(UTC).strftime("%Y%m%d%H%M%S") + "_" + uuid.uuid4().hex[:8]
        self._client: bigquery.Client | None = None

    def client(self) -> bigquery.Client:
        if self._client is None:
            self._client = make_bigquery_client(self.settings)
        return self._client

    def ref(self, table: str) -> str:
        project = self.settings.project or self.client().project
        return f"{project}.{self.settings.bigquery_dataset}.{table}"

    @property
    def requests(self) -> str:
        return self.ref(self.settings.bigquery_table)

    @property
    def errors(self) -> str:
        return self.ref(self.settings.bigquery_error_table)

    def staging(self, table: str) -> str:
        own = self.settings.bigquery_table if table == HTTP_REQUESTS.name else self.settings.bigquery_error_table
        return self.ref(f"{own}_replay_{self.run_id}")

    # -- staging ------------------------------------------------------------------------------
    def create_staging(self) -> None:
        for schema in (HTTP_REQUESTS, ERRORS):
            table = bigquery.Table(self.staging(schema.name), schema=staging_schema(schema))
            table.expires = datetime.now(UTC) + timedelta(hours=STAGING_HOURS)
            table.description = f"logexport replay {self.run_id}: staging, dropped when the replay ends"
            self.client().create_table(table, exists_ok=True)

    def drop_staging(self) -> None:
        for schema in (HTTP_REQUESTS, ERRORS):
            self.client().delete_table(self.staging(schema.name), not_found_ok=True)

    def load(self, table: str, ndjson: IO[bytes]) -> int:
        """Appends NDJSON rows to a staging table with one load job; returns the rows loaded."""
        schema = HTTP_REQUESTS if table == HTTP_REQUESTS.name else ERRORS
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            schema=staging_schema(schema),
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
        )
        job = self.client().load_table_from_file(ndjson, self.staging(table), rewind=True, job_config=config)
        job.result()
        return int(job.output_rows or 0)

    # -- replacing a day -------------------------------------------------------------------------
    def replace_day(self, day: DayReplay) -> None:
        """One transaction: the day's rows of the replayed logs, and the replay's error rows."""
        request_columns = ", ".join(f"`{c}`" for c in HTTP_REQUESTS.column_names)
        error_columns = ", ".join(f"`{c}`" for c in ERRORS.column_names)
        script = f"""BEGIN TRANSACTION;
DELETE FROM `{self.requests}` WHERE DATE(timestamp) = @day AND {_LOG_SCOPE};
INSERT INTO `{self.requests}` ({request_columns})
SELECT {_select(HTTP_REQUESTS)} FROM `{self.staging(HTTP_REQUESTS.name)}` WHERE DATE(timestamp) = @day
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY log_name, COALESCE(insert_id, {SOURCE_COLUMN}), timestamp ORDER BY {SOURCE_COLUMN}) = 1;
DELETE FROM `{self.errors}` WHERE DATE(error_timestamp) = @day AND {_SOURCE_SCOPE};
INSERT INTO `{self.errors}` ({error_columns})
SELECT {_select(ERRORS)} FROM `{self.staging(ERRORS.name)}` WHERE DATE(error_timestamp) = @day
QUALIFY ROW_NUMBER() OVER (PARTITION BY {SOURCE_COLUMN} ORDER BY {SOURCE_COLUMN}) = 1;
COMMIT TRANSACTION;"""
        self.client().query(script, job_config=_day_parameters(day)).result()

    # -- what the destination holds -------------------------------------------------------------------
    def counts(self, day: DayReplay) -> DayCounts:
        """Rows the replay would replace, and the reasons of the error rows it would replace."""
        config = _day_parameters(day)
        rows = self.client().query(
            f"SELECT COUNT(*) AS n FROM `{self.requests}` WHERE DATE(timestamp) = @day AND {_LOG_SCOPE}",
            job_config=config,
        )
        reasons = self.client().query(
            f"SELECT reason, COUNT(*) AS n FROM `{self.errors}` "
            f"WHERE DATE(error_timestamp) = @day AND {_SOURCE_SCOPE} GROUP BY reason",
            job_config=config,
        )
        found = DayCounts(rows=next(iter(rows.result())).n)
        found.reasons.update({r.reason: r.n for r in reasons.result()})
        return found

    def days_with_live_rows(self, days: list[str], since: datetime) -> list[str]:
        """Days holding rows published since `since`: the live functions are still writing them
        (late entries, a drained backlog), and rows streamed by insertAll in the last 30 minutes
        cannot be deleted by DML at all. Replayed rows have no publish time, so they never count."""
        result = self.client().query(
            f"SELECT DISTINCT CAST(DATE(timestamp) AS STRING) AS day FROM `{self.requests}` "
            "WHERE DATE(timestamp) IN UNNEST(@days) AND publish_time >= @since",
            job_config=bigquery.QueryJobConfig(
                query_parameters=[
                    bigquery.ArrayQueryParameter("days", "DATE", days),
                    bigquery.ScalarQueryParameter("since", "TIMESTAMP", since),
                ]
            ),
        )
        return sorted(r.day for r in result.result())


_LOG_SCOPE = "(log_id IN UNNEST(@log_ids) OR (@unknown_log AND log_id IS NULL))"
_SOURCE_SCOPE = "EXISTS (SELECT 1 FROM UNNEST(@directories) AS d WHERE STARTS_WITH(subscription, d))"


def _select(table: Table) -> str:
    return ", ".join(f"PARSE_JSON(`{c.name}`)" if c.type == "JSON" else f"`{c.name}`" for c in table.columns)


def _day_parameters(day: DayReplay) -> bigquery.QueryJobConfig:
    return bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter("day", "DATE", day.day),
            bigquery.ArrayQueryParameter("log_ids", "STRING", day.named_log_ids),
            bigquery.ScalarQueryParameter("unknown_log", "BOOL", day.includes_unknown_log),
            bigquery.ArrayQueryParameter("directories", "STRING", sorted(day.directories)),
        ]
    )


def check_live_days(tables: Tables, days: list[str], settle: timedelta, now: datetime | None = None) -> dict[str, str]:
    """Days that may still receive live rows, with why: not ended `settle` ago, or rows published
    within `settle` (see Tables.days_with_live_rows)."""
    now = now or datetime.now(UTC)
    live = {d: f"the day ended less than {settle} ago" for d in open_days(days, now, settle)}
    closed = [d for d in days if d not in live]
    if closed:
        for d in tables.days_with_live_rows(closed, now - settle):
            live[d] = f"it has rows published in the last {settle}"
    return live


class StagingBuffer:
    """Staged rows as NDJSON, one buffer per table, sent as a load job once LOAD_BYTES is reached."""

    def __init__(self, tables: Tables, max_bytes: int = LOAD_BYTES) -> None:
        self.tables = tables
        self.max_bytes = max_bytes
        self.loaded = 0
        self._buffers: dict[str, io.BytesIO] = {}

    def add(self, row: StagedRow) -> None:
        buffer = self._buffers.setdefault(row.table, io.BytesIO())
        buffer.write(orjson.dumps(row.row) + b"\n")
        if buffer.tell() >= self.max_bytes:
            self._load(row.table)

    def flush(self) -> None:
        for table in list(self._buffers):
            self._load(table)

    def _load(self, table: str) -> None:
        buffer = self._buffers.pop(table)
        if buffer.tell():
            self.loaded += self.tables.load(table, buffer)


class Progress:
    """One line on stderr every `interval` seconds and at the end of each day."""

    def __init__(self, stream: TextIO = sys.stderr, interval: float = 2.0) -> None:
        self.stream, self.interval = stream, interval
        self.started = self._last = time.monotonic()
        self.objects = self.entries = self.rows = 0

    def update(self, day: str, total_objects: int, tally: DayReplay, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        entries = self.entries + tally.entries
        rate = entries / max(now - self.started, 1e-9)
        print(
            f"replay {day}: {tally.objects}/{total_objects} objects, {tally.entries:,} entries, {tally.rows:,} rows"
            f" ({entries:,} entries in all, {rate:,.0f}/s)",
            file=self.stream,
            flush=True,
        )

    def day_done(self, tally: DayReplay) -> None:
        self.objects += tally.objects
        self.entries += tally.entries
        self.rows += tally.rows


@dataclass(slots=True)
class DayResult:
    replay: DayReplay
    before: DayCounts
    live: str | None  # why the day counts as live, if it does


@dataclass(slots=True)
class ReplayReport:
    days: list[DayResult] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def entries(self) -> int:
        return sum(d.replay.entries for d in self.days)

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "days": [
                {
                    "day": d.replay.day,
                    "objects": d.replay.objects,
                    "entries": d.replay.entries,
                    "rows_before": d.before.rows,
                    "rows_after": d.replay.rows,
                    "outcomes": dict(d.replay.by_kind),
                    "error_reasons": dict(d.replay.reasons),
                    "error_reasons_before": dict(d.before.reasons),
                    "misdated": d.replay.misdated,
                    "logs": sorted(d.replay.log_ids),
                    "live": d.live,
                }
                for d in self.days
            ],
        }


def replay(
    settings: Settings,
    *,
    bucket: str,
    prefix: str,
    days: list[str],
    log_ids: list[str] | None = None,
    dry_run: bool = False,
    allow_live_days: bool = False,
    settle: timedelta = DEFAULT_SETTLE,
    progress: Progress | None = None,
) -> ReplayReport:
    """Re-derives the rows of `days` from the archive and replaces them, day by day."""
    if not bucket:
        raise ConfigError("no archive bucket: pass --bucket or set ARCHIVE_BUCKET")
    started = time.monotonic()
    archive, tables = Archive(settings, bucket, prefix), Tables(settings)
    progress = progress or Progress()
    live = check_live_days(tables, days, settle)
    if live and not dry_run and not allow_live_days:
        reasons = "; ".join(f"{d}: {why}" for d, why in sorted(live.items()))
        raise ReplayError(f"refusing days that may still receive live rows ({reasons}); --allow-live-days overrides")
    report = ReplayReport(dry_run=dry_run)
    log_dirs = log_dirs_for(archive, log_ids)
    if not dry_run:
        tables.create_staging()
    try:
        for day in days:
            tally = DayReplay(day)
            objects = archive.objects(day, log_dirs)
            buffer = StagingBuffer(tables)
            for obj in objects:
                for row in replay_object(archive, obj, tally):
                    if not dry_run:
                        buffer.add(row)
                progress.update(day, len(objects), tally)
            progress.update(day, len(objects), tally, force=True)
            progress.day_done(tally)
            before = tables.counts(tally) if tally.objects else DayCounts()
            if tally.objects and not dry_run:
                buffer.flush()
                tables.replace_day(tally)
            report.days.append(DayResult(tally, before, live.get(day)))
    finally:
        if not dry_run:
            tables.drop_staging()
    report.seconds = time.monotonic() - started
    return report


def format_report(report: ReplayReport) -> str:
    """The per-day table printed on stdout."""
    head = "dry run: nothing written" if report.dry_run else "replaced"
    lines = [
        f"{head}; {report.entries:,} entries in {report.seconds:.1f}s",
        f"{'day':<10}  {'objects':>7}  {'entries':>8}  {'rows now':>8}  {'rows after':>10}  "
        f"{'http':>8}  {'other':>7}  {'error':>6}  error reasons (now -> after)",
    ]
    for d in report.days:
        r = d.replay
        reasons = sorted(set(r.reasons) | set(d.before.reasons))
        shown = ", ".join(
            f"{k} {d.before.reasons[k]} -> {r.reasons[k]}" + (" (new)" if not d.before.reasons[k] else "")
            for k in reasons
        )
        notes = [shown] if shown else []
        if r.misdated:
            notes.append(f"{r.misdated} rows dated outside the day not written")
        if not r.objects:
            notes.append("no archive objects: nothing replaced")
        if d.live:
            notes.append(f"LIVE: {d.live}")
        lines.append(
            f"{r.day:<10}  {r.objects:>7}  {r.entries:>8,}  {d.before.rows:>8,}  {r.rows:>10,}  "
            f"{r.by_kind['http']:>8,}  {r.by_kind['other']:>7,}  {r.by_kind['error']:>6,}  {'; '.join(notes)}"
        )
    return "\n".join(lines)
