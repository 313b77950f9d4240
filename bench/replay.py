"""Replay throughput against the local emulators: the one-machine replay and the Beam DirectRunner.

    .venv/bin/python bench/replay.py [--entries 20000] [--no-beam]

Builds an archive of load balancer and nginx entries over one day (24 hours, two logs), written
by the real Archiver in drain-sized batches of 1,000 (24 objects per batch), then measures
entries/s for:
- the core alone: every archived line through functions/replay.py, in memory (the baseline,
  measured in the same run; the ratios below are against it);
- `python -m functions replay` (sinks/replay.py): list, download, replay, stage by load job,
  one transaction for the day; run twice (the second replaces the first's rows);
- the Beam pipeline (beam/replay_pipeline.py) on the DirectRunner, wall time including its start.
The emulators and Beam share the machine's cores: absolute speeds say little about Cloud Storage,
BigQuery or Dataflow; the ratio says where the time goes.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
import uuid
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from functions.config import Settings
from functions.message import Message
from functions.pipeline import process
from functions.replay import archive_lines, replay_line
from local.beam_env import ensure_beam_venv
from local.emulators import ROOT, Stack
from sinks.archive import Archiver
from sinks.bigquery import BigQuerySink
from sinks.clients import make_storage_client
from sinks.replay import Archive, Progress, log_dirs_for, replay

DAY = "2024-05-01"
BATCH = 1000  # drain's batch size


def entry(n: int) -> bytes:
    """A load balancer request log entry or an nginx line from GKE, spread over the day's hours."""
    when = f"{DAY}T{n % 24:02d}:{n % 60:02d}:{n % 59:02d}.{n:06d}Z"
    if n % 2:
        body = {
            "logName": "projects/demo-blog/logs/stdout",
            "resource": {"type": "k8s_container", "labels": {"project_id": "demo-blog", "container_name": "nginx"}},
            "textPayload": f'198.51.100.{n % 250} - - [01/May/2024:10:00:00 +0000] "GET /posts/{n} HTTP/1.1" 200 {n} '
            '"https://www.google.com/" "Mozilla/5.0 (X11; Linux x86_64)"\n',
        }
    else:
        body = {
            "logName": "projects/demo-blog/logs/requests",
            "resource": {"type": "http_load_balancer", "labels": {"project_id": "demo-blog", "zone": "global"}},
            "httpRequest": {
                "requestMethod": "GET",
                "requestUrl": f"https://blog.example.com/posts/{n}?ref=rss",
                "status": 200,
                "responseSize": "10591",
                "latency": "0.012345s",
                "remoteIp": "203.0.113.7",
            },
        }
    return orjson.dumps({"insertId": f"bench{n:08d}", "timestamp": when, "receiveTimestamp": when, **body})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--no-beam", action="store_true", help="skip the Beam DirectRunner run")
    args = parser.parse_args()
    beam_python = None if args.no_beam else ensure_beam_venv()
    with Stack() as stack:
        env = {
            **stack.env(),
            "BIGQUERY_DATASET": f"bench_{uuid.uuid4().hex[:8]}",
            "ARCHIVE_BUCKET": f"bench-{uuid.uuid4().hex[:8]}",
        }
        settings = Settings.from_env(env)
        assert settings.archive_bucket
        make_storage_client(settings).create_bucket(settings.archive_bucket)
        BigQuerySink(settings).ensure()
        archiver = Archiver(settings)
        for start in range(0, args.entries, BATCH):
            batch = range(start, min(start + BATCH, args.entries))
            archiver.archive([process(Message(entry(n), f"m{n}", None)) for n in batch])
        archive = Archive(settings, settings.archive_bucket, settings.archive_prefix)
        objects = archive.objects(DAY, log_dirs_for(archive, None))
        contents = [(obj, archive.read(obj)) for obj in objects]
        print(f"archive: {args.entries:,} entries in {len(objects)} objects; machine shared with other work")

        started = time.perf_counter()
        outcomes = [replay_line(line, obj) for obj, content in contents for line in archive_lines(content)]
        baseline = len(outcomes) / (time.perf_counter() - started)
        results = [("core only, in memory (baseline)", baseline)]

        for run in ("first", "second"):
            report = replay(settings, bucket=settings.archive_bucket, prefix=settings.archive_prefix, days=[DAY],
                            progress=Progress(io.StringIO()))  # fmt: skip
            assert report.entries == args.entries, report.to_json()
            results.append((f"one-machine replay, {run} run", report.entries / report.seconds))

        if beam_python is not None:
            started = time.perf_counter()
            subprocess.run(
                [str(beam_python), "-m", "beam.replay_pipeline", "--from", DAY, "--runner", "DirectRunner"],
                env=env, cwd=ROOT, check=True, capture_output=True,
            )  # fmt: skip
            results.append(("Beam DirectRunner, wall incl. start", args.entries / (time.perf_counter() - started)))

    print(f"{'path':<38} {'entries/s':>10} {'vs core':>8}")
    for name, rate in results:
        print(f"{name:<38} {rate:>10,.0f} {rate / baseline:>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
