"""The local demo: the whole pipeline on this machine, start to finish, in one command.

Starts the emulators and functions-framework (`drain`, `forward`) in the default deployment mode
(`batch`), publishes the story of local/sample.py to the topic the Log Router would publish to,
calls `drain` as Cloud Scheduler would (every minute, deployed), which writes the rows and the
archive, prints what landed, forwards the cluster's
container logs to a local rsyslog over TLS (standing in for Papertrail), shows a few of the lines
it received, and stops everything.

    python -m local.demo            (or: make demo)
"""

from __future__ import annotations

import collections
import gzip
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from local.emulators import ROOT
from local.pipeline import BUCKET, DEFAULT_MODE, LocalPipeline
from local.sample import SPAN_SECONDS, story
from report import cli as report_cli
from sinks.clients import make_bigquery_client, make_storage_client

WAIT_SECONDS = 120.0
REPORT = ROOT / ".state" / "demo-report.html"


def say(text: str) -> None:
    print(text, flush=True)


def main() -> int:
    started = time.monotonic()
    say("== Starting the emulators (Pub/Sub, BigQuery, Cloud Storage), rsyslog and functions-framework ==")
    with LocalPipeline(mode=DEFAULT_MODE, forward=True) as pipeline:
        say(f"   mode: {pipeline.mode}; " + ", ".join(f"{name}: {s.url}" for name, s in pipeline.servers.items()))
        # The last hour's traffic, so that the report's range holds it and the error rows
        # (stamped when they are processed, now).
        start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(seconds=SPAN_SECONDS)
        items = list(story(start=start))
        kinds = collections.Counter(item.kind for item in items)
        sources = collections.Counter(item.source for item in items)
        say(f"== Publishing {len(items)} messages to {pipeline.topic} ==")
        for source, count in sources.most_common():
            say(f"   {count:>5}  {source}")
        pipeline.publish(item.payload for item in items)

        bigquery = make_bigquery_client(pipeline.settings)
        say(f"== Calling drain as Cloud Scheduler would (batch pull -> {kinds['http']} rows, "
            f"{kinds['error']} error rows, the archive) ==")  # fmt: skip
        summary = pipeline.drain()
        say(
            "   "
            + ", ".join(f"{k}={summary[k]}" for k in ("pulled", "stored", "errors", "acked", "seconds", "stopped"))
        )
        if summary.get("failure"):
            say(f"   drain failed at {summary.get('stage')}: {summary['failure']}")
            return 1
        stored = _count(bigquery, "logs.http_requests") + _count(bigquery, "logs.errors")
        if stored != kinds["http"] + kinds["error"]:
            say(f"   {stored} rows stored of {kinds['http'] + kinds['error']}: see {pipeline.state_dir}")
            return 1

        _report(bigquery, pipeline)
        forwarded = _forward(pipeline, [item.payload for item in items])
        say("== Writing the traffic report (python -m functions report) ==")
        until = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        path = report_cli.write(pipeline.settings, start, until, REPORT, install_functions=True)
        say(f"   open {path.resolve().as_uri()}")
    say(f"== Done in {time.monotonic() - started:.0f}s; everything it started is stopped ==")
    return 0 if summary.get("failure") is None and forwarded.get("failure") is None else 1


def _selected_for_forwarding(payload: bytes) -> bool:
    """The forward sink's default filter: resource.type="k8s_container" OR severity>=WARNING."""
    try:
        entry = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(entry, dict):
        return False
    serious = entry.get("severity") in ("WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
    return serious or (entry.get("resource") or {}).get("type") == "k8s_container"


def _forward(pipeline: LocalPipeline, payloads: list[bytes]) -> dict[str, Any]:
    selected = [p for p in payloads if _selected_for_forwarding(p)]
    receiver = pipeline.receiver
    assert receiver is not None
    say(f"== Forwarding {len(selected)} container log entries (forward: batch pull -> syslog over TLS) ==")
    pipeline.publish_forward(selected)
    summary = pipeline.forward()
    say("   " + ", ".join(f"{k}={summary[k]}" for k in ("pulled", "sent", "skipped", "acked", "seconds", "stopped")))
    deadline = time.monotonic() + WAIT_SECONDS
    while len(lines := receiver.received()) < summary["sent"] and time.monotonic() < deadline:
        time.sleep(0.2)
    say(f"== What the syslog receiver got ({len(lines)} messages, {receiver.received_path.name}; "
        "rsyslog standing in for Papertrail) ==")  # fmt: skip
    for line in lines[:5]:
        text = line.decode("utf-8", "replace")
        say(f"   {text[:150]}{'...' if len(text) > 150 else ''}")
    return summary


def _count(bigquery: Any, table: str) -> int:
    return int(next(iter(bigquery.query(f"SELECT COUNT(*) AS n FROM {table}").result()))["n"])


def _rows(bigquery: Any, sql: str) -> list[dict[str, Any]]:
    return [dict(row) for row in bigquery.query(sql).result()]


def _report(bigquery: Any, pipeline: LocalPipeline) -> None:
    say("== What landed in BigQuery ==")
    say(f"   http_requests: {_count(bigquery, 'logs.http_requests')} rows "
        f"({_count(bigquery, 'logs.http_requests_dedup')} after de-duplication); "
        f"errors: {_count(bigquery, 'logs.errors')} rows")  # fmt: skip
    say("   requests by source:")
    for row in _rows(bigquery, "SELECT source, COUNT(*) AS n FROM logs.http_requests GROUP BY source ORDER BY n DESC"):
        say(f"     {row['source']:<14} {row['n']:>6}")
    say("   requests per status:")
    for row in _rows(bigquery, "SELECT status, COUNT(*) AS n FROM logs.http_requests GROUP BY status ORDER BY status"):
        say(f"     {row['status']}  {row['n']:>6}")
    say("   top paths:")
    top = "SELECT path, COUNT(*) AS n FROM logs.http_requests GROUP BY path ORDER BY n DESC, path LIMIT 5"
    for row in _rows(bigquery, top):
        say(f"     {row['n']:>6}  {row['path']}")
    latency = _rows(
        bigquery,
        "SELECT APPROX_QUANTILES(latency_seconds, 100)[OFFSET(50)] AS p50, "
        "APPROX_QUANTILES(latency_seconds, 100)[OFFSET(95)] AS p95 FROM logs.http_requests "
        "WHERE latency_seconds IS NOT NULL",
    )[0]
    say(f"   latency: p50 {latency['p50'] * 1000:.1f} ms, p95 {latency['p95'] * 1000:.1f} ms")
    say("   error rows:")
    for row in _rows(
        bigquery, "SELECT reason, stage, COUNT(*) AS n FROM logs.errors GROUP BY reason, stage ORDER BY reason"
    ):
        say(f"     {row['reason']:<14} ({row['stage']}) {row['n']:>3}")
    say(f"== What landed in gs://{BUCKET} (gzip NDJSON, partitioned by log and event hour) ==")
    storage = make_storage_client(pipeline.settings)
    total = 0
    for blob in storage.list_blobs(BUCKET):
        lines = gzip.decompress(blob.download_as_bytes(raw_download=True)).count(b"\n")
        total += lines
        say(f"   {lines:>5} entries  {blob.name}")
    say(f"   {total} entries archived in all")


if __name__ == "__main__":
    sys.exit(main())
