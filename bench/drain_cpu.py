"""The pure CPU `drain` spends per message, against `json.loads` + `json.dumps` of the same entry.

    .venv/bin/python bench/drain_cpu.py [BATCHES]

For 1,000-message batches (one pull), times each step `drain` runs on its own CPU, with no
network: the pull's answer -> `Message`s (`pull`), `Message` -> outcome (`parse`: decode, LogEntry, request
row), the archive's plan (NDJSON line, partition, object name) and its gzip, and the Storage
Write API encoding of the rows. The baseline, in the same run and on the same entries, is the
least any processor does with a JSON message: `json.loads` + `json.dumps`. Parsing is measured
apart from the rest because it is a separate piece of work (functions/); the other steps are
the sinks'. CPU time of this process (`time.process_time`), so that other work on a
shared machine inflates the figures less than wall time would, interleaved over 7 rounds (best of each).
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from bench.parse import corpus
from functions.outcome import Outcome
from functions.pipeline import process
from functions.schema import ERRORS, HTTP_REQUESTS
from sinks.archive import MAX_OBJECT_BYTES, compress, plan
from sinks.bigquery import encode_rows
from sinks.pubsub import received

BATCH = 1000  # Pub/Sub's most per pull, and what `drain` asks for
SUBSCRIPTION = "projects/blog-prod-123/subscriptions/logexport-drain"
BASELINE = "baseline: json.loads + json.dumps"


def pull_response(raw: list[bytes]) -> pubsub_v1.types.PullResponse:
    """One pull's answer, as the Pub/Sub client returns it."""
    published = datetime(2026, 11, 20, 9, 15, 3, tzinfo=UTC)
    return pubsub_v1.types.PullResponse(
        received_messages=[
            {"ack_id": f"ack-{i}", "message": {"data": d, "message_id": str(i), "publish_time": published}}
            for i, d in enumerate(raw)
        ]
    )


def parse(response: pubsub_v1.types.PullResponse) -> list[Outcome]:  # as drain does, for the later steps
    return [process(p.message) for p in received(response, SUBSCRIPTION)]


def archive_plan(outcomes: list[Outcome]) -> object:
    return plan(outcomes, "logs", MAX_OBJECT_BYTES)


def archive_gzip(objects: list[list[bytes]]) -> object:
    return [compress(lines) for lines in objects]


def encode(outcomes: list[Outcome]) -> object:
    http = [o.row for o in outcomes if o.kind == "http" and o.row is not None]
    errors = [o.row for o in outcomes if o.kind == "error" and o.row is not None]
    return encode_rows(HTTP_REQUESTS, http), encode_rows(ERRORS, errors)


def baseline(raw: list[bytes]) -> object:
    return [json.dumps(json.loads(data)) for data in raw]


def cpu_micros_per_message(steps: dict[str, Callable[[], object]], messages: int, rounds: int = 7) -> dict[str, float]:
    """Each step's best CPU time over `rounds` interleaved rounds, in µs per message: interleaving
    lets a busy spell on a shared machine hit every step alike, so the ratios hold."""
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(rounds):
        for label, work in steps.items():
            started = time.process_time()
            work()
            best[label] = min(best[label], time.process_time() - started)
    return {label: seconds / messages * 1e6 for label, seconds in best.items()}


def run(name: str, raw: list[bytes]) -> None:
    n = len(raw)
    chunks = [pull_response(raw[i : i + BATCH]) for i in range(0, n, BATCH)]
    outcomes = [parse(chunk) for chunk in chunks]
    objects = [[obj.lines for obj in plan(batch, "logs", MAX_OBJECT_BYTES)] for batch in outcomes]
    messages = [[p.message for p in received(c, SUBSCRIPTION)] for c in chunks]
    steps = {
        "pull: PullResponse -> Messages": lambda: [received(c, SUBSCRIPTION) for c in chunks],
        "parse: Message -> outcome and row": lambda: [[process(m) for m in batch] for batch in messages],
        "archive: lines, partitions, object names": lambda: [archive_plan(batch) for batch in outcomes],
        "archive: gzip": lambda: [archive_gzip(lines) for lines in objects],
        "rows: Storage Write encoding": lambda: [encode(batch) for batch in outcomes],
    }
    print(f"{name}, {sum(map(len, raw)) / n:,.0f} bytes each:")
    spent = cpu_micros_per_message({**steps, BASELINE: lambda: baseline(raw)}, n)
    base = spent.pop(BASELINE)
    for label, micros in spent.items():
        print(f"  {label:<44}{micros:>7.1f} µs")
    total = sum(spent.values())
    sinks = total - spent["parse: Message -> outcome and row"]
    print(f"  {'drain, all of it':<44}{total:>7.1f} µs")
    print(f"  {'baseline: json.loads + json.dumps':<44}{base:>7.1f} µs")
    print(f"  ratio drain/baseline {total / base:.2f}x (target <= 1.0); "
          f"all but parsing (pull, archive, rows) {sinks / base:.2f}x")  # fmt: skip


def main() -> None:
    batches = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(
        f"bench/drain_cpu.py: {batches} batches of {BATCH:,} messages, CPU time of this process, best of 7 interleaved rounds"
    )
    for name, nginx_share in (("load-balancer entries", 0.0), ("mixed (80% LB, 20% nginx)", 0.2)):
        run(name, corpus(batches * BATCH, nginx_share, random.Random(7)))


if __name__ == "__main__":
    main()
