"""Replay on Apache Beam, for archives that outgrow one machine: the same core and the same
per-day replacement as `python -m functions replay` (sinks/replay.py), spread over workers.

    archive objects of the days (listed here, by the driver)
      -> Reshuffle -> read + replay each object (functions/replay.py)    [workers]
      -> rows: BatchElements -> one load job per batch into the staging tables
      -> per-day counts: combined per day -> one transaction per day, once every batch is staged
    then the driver drops the staging tables.

Rows are written with the project's BigQuery client in DoFns, not WriteToBigQuery: the staging
load and the per-day transaction are the one-machine replay's own code, and the emulators can
serve them (WriteToBigQuery needs a Java expansion service or a fixed endpoint). Run it from the
Beam venv (`make beam-venv`); the README's "Replay and backfill" section has the commands.
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta
from typing import Any

import apache_beam as beam
import orjson
from apache_beam.metrics.metric import Metrics, MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions

from functions.config import Settings
from functions.replay import ArchiveObject, DayReplay, ReplayError, days_between
from sinks.replay import Archive, StagedRow, Tables, check_live_days, log_dirs_for, replay_object

MAX_ROWS_PER_LOAD = 100_000  # BigQuery allows 1,500 load jobs per table per day: ~150M rows per run
_NAMESPACE = "logexport.replay"


class ReplayObject(beam.DoFn):  # type: ignore[misc]  # apache_beam is untyped
    """One archive object -> its staged rows (main output) and its day's counts ("days")."""

    def __init__(self, settings: Settings, bucket: str, prefix: str) -> None:
        self.settings, self.bucket, self.prefix = settings, bucket, prefix
        self.entries = Metrics.counter(_NAMESPACE, "entries")
        self.objects = Metrics.counter(_NAMESPACE, "objects")

    def setup(self) -> None:
        self.archive = Archive(self.settings, self.bucket, self.prefix)

    def process(self, obj: ArchiveObject) -> Iterator[Any]:
        tally = DayReplay(obj.day)
        yield from replay_object(self.archive, obj, tally)
        self.objects.inc()
        self.entries.inc(tally.entries)
        yield beam.pvalue.TaggedOutput("days", (obj.day, tally))


class LoadStaging(beam.DoFn):  # type: ignore[misc]  # apache_beam is untyped
    """A batch of staged rows -> one load job per table; outputs the rows loaded."""

    def __init__(self, settings: Settings, run_id: str) -> None:
        self.settings, self.run_id = settings, run_id
        self.rows = Metrics.counter(_NAMESPACE, "rows_staged")

    def setup(self) -> None:
        self.tables = Tables(self.settings, self.run_id)

    def process(self, batch: Sequence[StagedRow]) -> Iterator[int]:
        by_table: dict[str, io.BytesIO] = {}
        for staged in batch:
            by_table.setdefault(staged.table, io.BytesIO()).write(orjson.dumps(staged.row) + b"\n")
        loaded = sum(self.tables.load(table, ndjson) for table, ndjson in sorted(by_table.items()))
        self.rows.inc(loaded)
        yield loaded


class ReplaceDay(beam.DoFn):  # type: ignore[misc]  # apache_beam is untyped
    """A day's combined counts -> its transaction; runs only once every batch is staged (side input)."""

    def __init__(self, settings: Settings, run_id: str) -> None:
        self.settings, self.run_id = settings, run_id
        self.days = Metrics.counter(_NAMESPACE, "days_replaced")
        self.rows = Metrics.counter(_NAMESPACE, "rows")

    def setup(self) -> None:
        self.tables = Tables(self.settings, self.run_id)

    def process(self, element: tuple[str, DayReplay], staged_rows: int) -> Iterator[str]:
        day, tally = element
        self.tables.replace_day(tally)
        self.days.inc()
        self.rows.inc(tally.rows)
        yield f"{day}: {tally.objects} objects, {tally.entries} entries, {tally.rows} rows, {dict(tally.by_kind)}"


def _merge(tallies: Any) -> DayReplay | None:
    merged: DayReplay | None = None
    for tally in tallies:
        merged = tally if merged is None else merged.merge(tally)
    return merged


def build(
    pipeline: beam.Pipeline, objects: list[ArchiveObject], settings: Settings, bucket: str, prefix: str, run_id: str
) -> None:
    replayed = (
        pipeline
        | "Objects" >> beam.Create(objects)
        | "Spread" >> beam.Reshuffle()
        | "Replay" >> beam.ParDo(ReplayObject(settings, bucket, prefix)).with_outputs("days", main="rows")
    )
    staged = (
        replayed.rows
        | "Batch" >> beam.BatchElements(min_batch_size=100, max_batch_size=MAX_ROWS_PER_LOAD)
        | "Stage" >> beam.ParDo(LoadStaging(settings, run_id))
        | "Staged" >> beam.CombineGlobally(sum)
    )
    (
        replayed.days
        | "PerDay" >> beam.CombinePerKey(_merge)
        | "ReplaceDay" >> beam.ParDo(ReplaceDay(settings, run_id), staged_rows=beam.pvalue.AsSingleton(staged))
        | "Log" >> beam.Map(lambda line: logging.getLogger(__name__).info("replaced %s", line))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m beam.replay_pipeline",
        description="Replay the archive into BigQuery with Apache Beam; other flags go to Beam (--runner ...).",
    )
    parser.add_argument("--bucket", help="archive bucket (default: $ARCHIVE_BUCKET)")
    parser.add_argument("--prefix", help="archive prefix (default: $ARCHIVE_PREFIX, else logs)")
    parser.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--to", dest="last", help="last day, inclusive (default: --from)")
    parser.add_argument("--log", action="append", dest="log_ids", help="only this log id (repeatable)")
    parser.add_argument("--allow-live-days", action="store_true", help="replay days that may still get live rows")
    parser.add_argument("--settle-minutes", type=float, default=60.0, help="how long a day counts as live (60)")
    args, beam_args = parser.parse_known_args(argv)
    settings = Settings.from_env()
    bucket = args.bucket or settings.archive_bucket
    prefix = settings.archive_prefix if args.prefix is None else args.prefix.strip("/")
    if not bucket:
        parser.error("no archive bucket: pass --bucket or set ARCHIVE_BUCKET")
    started = time.monotonic()
    try:
        days = days_between(args.first, args.last or args.first)
        tables = Tables(settings)
        live = check_live_days(tables, days, timedelta(minutes=args.settle_minutes))
        if live and not args.allow_live_days:
            reasons = "; ".join(f"{d}: {why}" for d, why in sorted(live.items()))
            raise ReplayError(
                f"refusing days that may still receive live rows ({reasons}); --allow-live-days overrides"
            )
    except ReplayError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    archive = Archive(settings, bucket, prefix)
    log_dirs = log_dirs_for(archive, args.log_ids)
    objects = [obj for day in days for obj in archive.objects(day, log_dirs)]
    print(f"replay (beam): {len(objects)} objects over {len(days)} days, run {tables.run_id}", file=sys.stderr)
    tables.create_staging()
    try:
        pipeline = beam.Pipeline(options=PipelineOptions(beam_args))
        build(pipeline, objects, settings, bucket, prefix, tables.run_id)
        result = pipeline.run()
        result.wait_until_finish()
    finally:
        tables.drop_staging()
    counters = {c.key.metric.name: c.committed for c in result.metrics().query(MetricsFilter())["counters"]}
    entries = counters.get("entries", 0)
    seconds = time.monotonic() - started
    print(
        f"replay (beam): {counters.get('days_replaced', 0)} days replaced, {counters.get('objects', 0)} objects, "
        f"{entries} entries, {counters.get('rows', 0)} rows in {seconds:.1f}s ({entries / seconds:.0f} entries/s)",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
