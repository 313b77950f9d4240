"""Sink throughput and API cost against the local emulators (local/emulators.py starts them).

    .venv/bin/python bench/sinks.py

Rows/s for each BigQuery write method at batches of 1, 100 and 1,000; MB/s archived; API calls
per 1,000 entries, counted from the sinks' own reports. The emulators are single-process
stand-ins (DuckDB behind local-bigquery, fake-gcs-server on a filesystem): absolute speeds say
nothing about BigQuery or Cloud Storage, only the calls per batch and the ratio between the two
write methods in the same run carry over. Bounded: well under two minutes on 2 cores.
"""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from functions.config import Settings, WriteMethod
from functions.message import Message
from functions.outcome import Outcome
from functions.pipeline import process
from local.emulators import Stack
from sinks.archive import Archiver
from sinks.bigquery import BigQuerySink
from sinks.clients import make_storage_client

BATCH_SIZES = (1, 100, 1000)
ROWS_PER_RUN = {1: 200, 100: 2000, 1000: 5000}
METHODS: tuple[WriteMethod, ...] = ("storage_write", "insert_all")


def outcome(n: int) -> Outcome:
    """A load balancer request log entry and its outcome; four (log_id, hour) groups in rotation."""
    log_id = ("requests", "cloudaudit.googleapis.com/data_access")[n % 2]
    hour = 10 + (n // 2) % 2
    timestamp = f"2024-05-01T{hour}:{n % 60:02d}:00.{n % 1000000:06d}Z"
    url = f"https://blog.example.com/posts/{n}?ref=rss"
    entry = {
        "insertId": f"bench{n:08d}",
        "logName": f"projects/demo-blog/logs/{quote(log_id, safe='')}",
        "resource": {"type": "http_load_balancer", "labels": {"project_id": "demo-blog", "zone": "global"}},
        "timestamp": timestamp,
        "httpRequest": {"requestMethod": "GET", "requestUrl": url, "status": 200, "responseSize": "10591"},
        "severity": "INFO",
    }
    return process(Message(orjson.dumps(entry), str(n), timestamp))  # the real row, as ingest builds it


def env(stack: Stack, method: WriteMethod = "storage_write") -> dict[str, str]:
    return {
        **stack.env(),
        "BIGQUERY_DATASET": f"bench_{uuid.uuid4().hex[:8]}",
        "BIGQUERY_WRITE_METHOD": method,
        "ARCHIVE_BUCKET": f"bench-{uuid.uuid4().hex[:8]}",
    }


def bench_bigquery(stack: Stack, method: WriteMethod, batch: int) -> tuple[float, float]:
    """Rows/s and API calls per 1,000 rows for one method and batch size."""
    environ = env(stack, method)
    sink = BigQuerySink(Settings.from_env(environ))
    sink.ensure()
    sink.write([outcome(-1)])  # warm-up: clients and connections
    outcomes = [outcome(n) for n in range(ROWS_PER_RUN[batch])]
    rows = calls = 0
    started = time.perf_counter()
    for start in range(0, len(outcomes), batch):
        report = sink.write(outcomes[start : start + batch])
        rows += report.rows
        calls += report.api_calls
    elapsed = time.perf_counter() - started
    assert rows == len(outcomes), (rows, len(outcomes))
    return rows / elapsed, calls * 1000 / rows


def bench_archive(stack: Stack, batch: int) -> tuple[float, float, float]:
    """Entries/s, MB/s (uncompressed NDJSON) and object writes per 1,000 entries."""
    environ = env(stack)
    settings = Settings.from_env(environ)
    make_storage_client(settings).create_bucket(settings.archive_bucket)
    archiver = Archiver(settings)
    outcomes = [outcome(n) for n in range(ROWS_PER_RUN[batch])]
    size = calls = 0
    started = time.perf_counter()
    for start in range(0, len(outcomes), batch):
        report = archiver.archive(outcomes[start : start + batch])
        size += report.bytes
        calls += report.api_calls
    elapsed = time.perf_counter() - started
    return len(outcomes) / elapsed, size / elapsed / 1e6, calls * 1000 / len(outcomes)


def main() -> None:
    print("starting the emulators (installs them on first use) ...", file=sys.stderr, flush=True)
    with Stack() as stack:
        print(f"{'sink':<24}{'batch':>7}{'rows/s':>10}{'MB/s':>8}{'calls/1k':>10}")
        speeds: dict[tuple[WriteMethod, int], float] = {}
        for method in METHODS:
            for batch in BATCH_SIZES:
                rate, calls = bench_bigquery(stack, method, batch)
                speeds[method, batch] = rate
                print(f"{'bigquery ' + method:<24}{batch:>7}{rate:>10.0f}{'':>8}{calls:>10.1f}", flush=True)
        for batch in BATCH_SIZES:
            rate, megabytes, calls = bench_archive(stack, batch)
            print(f"{'archive':<24}{batch:>7}{rate:>10.0f}{megabytes:>8.2f}{calls:>10.1f}", flush=True)
        print("\nin-run baseline: storage_write rows/s / insert_all rows/s")
        for batch in BATCH_SIZES:
            ratio = speeds["storage_write", batch] / speeds["insert_all", batch]
            print(f"  batch {batch:>5}: {ratio:.2f}x")


if __name__ == "__main__":
    main()
