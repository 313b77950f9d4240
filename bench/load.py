"""A bounded load run through the local pipeline (emulators + functions-framework, loopback only).

    python bench/load.py                    # 100,000 messages, stops publishing-and-waiting after 15 minutes
    python bench/load.py --messages 20000

Reports:
- ingest (push): messages/s from the first publish until `ingest` logged every message;
- drain (batch pull -> archive): messages/s over the drain runs, the final empty pull excluded;
- end-to-end latency (publish -> row queryable): p50/p95 of sampled requests, once inside the
  burst (mostly queueing behind the backlog) and once paced at a light rate;
- the function processes' peak RSS (VmHWM of functions-framework's gunicorn master and workers);
- the accounting of local/reliability.py for the whole run (lost must be 0).

What it proves: the code paths hold under sustained volume (no loss, bounded memory). What it
does not: the emulators (a Java Pub/Sub fake, DuckDB behind a BigQuery API, fake-gcs-server)
share two cores with the functions, so the rates say nothing about Google's services.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/load.py` from the repository root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from local.harness import sql_list
from local.pipeline import LocalPipeline
from local.reliability import Item, Reliability, Report, describe, traffic

DEFAULT_MESSAGES = 100_000
DEFAULT_TIME_LIMIT_SECONDS = 15 * 60.0
LATENCY_SAMPLES = 200
PACED_RATE = 10.0  # messages/s for the light-load latency sample
POLL_SECONDS = 0.25


@dataclass
class LoadReport:
    messages: int = 0
    published_seconds: float = 0.0
    ingested: int = 0
    ingest_seconds: float = 0.0
    ingest_rate: float = 0.0
    complete: bool = False  # every message ingested within the time limit
    drained: int = 0
    drain_seconds: float = 0.0
    drain_rate: float = 0.0
    empty_drain_seconds: float = 0.0
    burst_latency_p50: float | None = None
    burst_latency_p95: float | None = None
    paced_latency_p50: float | None = None
    paced_latency_p95: float | None = None
    latency_samples: int = 0
    rss_peak_mib: dict[str, float] = field(default_factory=dict)
    accounting: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        def ms(value: float | None) -> str:
            return "n/a" if value is None else f"{value * 1000:.0f} ms"

        rss = ", ".join(f"{k} {v:.0f} MiB" for k, v in self.rss_peak_mib.items())
        return [
            f"messages             {self.messages} (published in {self.published_seconds:.1f} s)",
            f"ingest (push)        {self.ingested}/{self.messages} in {self.ingest_seconds:.1f} s: "
            f"{self.ingest_rate:.0f} msg/s{'' if self.complete else '  (INCOMPLETE: time limit)'}",
            f"drain (batch)        {self.drained} in {self.drain_seconds:.1f} s: {self.drain_rate:.0f} msg/s "
            f"(final empty pull of {self.empty_drain_seconds:.1f} s excluded)",
            f"e2e latency, burst   p50 {ms(self.burst_latency_p50)}, p95 {ms(self.burst_latency_p95)} "
            "(publish -> row queryable, queued behind the burst)",
            f"e2e latency, paced   p50 {ms(self.paced_latency_p50)}, p95 {ms(self.paced_latency_p95)} "
            f"({self.latency_samples} samples at {PACED_RATE:.0f} msg/s)",
            f"peak RSS (VmHWM)     {rss}",
        ]


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def peak_rss_mib(pid: int) -> dict[str, float]:
    """VmHWM of a process and its children (gunicorn's master and workers), in MiB."""
    found: dict[str, float] = {}
    pids = [pid, *_children(pid)]
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                found["master" if p == pid else f"worker {p}"] = int(line.split()[1]) / 1024
    return found


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


class RowWatcher:
    """Polls BigQuery for sampled message ids; records when each row first became queryable."""

    def __init__(self, run: Reliability) -> None:
        self.run = run
        self.sent: dict[str, float] = {}
        self.seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def watch(self, ids: Sequence[str], sent_at: float) -> None:
        with self._lock:
            for message_id in ids:
                self.sent.setdefault(message_id, sent_at)

    def latencies(self) -> list[float]:
        with self._lock:
            return [self.seen[m] - self.sent[m] for m in self.seen]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)

    def _loop(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            with self._lock:
                pending = [m for m in self.sent if m not in self.seen]
            if not pending:
                continue
            try:
                rows = self.run.e2e.query(
                    f"SELECT DISTINCT message_id FROM `logs.http_requests` WHERE message_id IN ({sql_list(pending)})"
                )
            except Exception:  # a slow or failing query: try again next round
                continue
            now = time.monotonic()
            with self._lock:
                for row in rows:
                    self.seen.setdefault(row["message_id"], now)


def run_load(
    messages: int,
    time_limit: float = DEFAULT_TIME_LIMIT_SECONDS,
    say: Callable[[str], None] = print,
    samples: int = LATENCY_SAMPLES,
) -> tuple[LoadReport, Report]:
    deadline = time.monotonic() + time_limit
    report = LoadReport(messages=messages)
    with LocalPipeline() as pipeline:
        run = Reliability(pipeline)
        items = traffic(messages, run.tag("load"))
        say(f"== {len(items)} messages: " + ", ".join(f"{n} {s}" for s, n in describe(items).most_common()) + " ==")
        watcher = RowWatcher(run)
        watcher.start()
        try:
            sampled = set(_spread([i for i, item in enumerate(items) if _plain_request(item)], samples))
            started = time.monotonic()
            ids: list[str] = []
            for start in range(0, len(items), 1000):
                chunk_started = time.monotonic()
                part = run.publish(items[start : start + 1000])
                ids += part
                watcher.watch([m for n, m in enumerate(part, start) if n in sampled], chunk_started)
            report.published_seconds = time.monotonic() - started
            say(f"   published in {report.published_seconds:.1f} s; waiting for ingest")
            wanted, last_say = set(ids), 0.0
            while True:
                done = len(wanted & run.log.poll().keys())
                now = time.monotonic()
                if done == len(wanted) or now > deadline:
                    break
                if now - last_say > 15:
                    say(f"   {done}/{len(wanted)} ingested after {now - started:.0f} s")
                    last_say = now
                time.sleep(POLL_SECONDS)
            report.ingested = done
            report.complete = done == len(wanted)
            report.ingest_seconds = time.monotonic() - started
            report.ingest_rate = done / report.ingest_seconds
            _wait_for_samples(watcher, min(deadline, time.monotonic() + 30))
            burst = watcher.latencies()
            report.burst_latency_p50, report.burst_latency_p95 = percentile(burst, 0.5), percentile(burst, 0.95)

            say("   paced latency sample")
            paced = [item for item in traffic(samples * 2, run.tag("paced")) if _plain_request(item)]
            paced_ids: list[str] = []
            before = len(watcher.sent)
            for item in paced[:samples]:
                sent_at = time.monotonic()
                [message_id] = run.publish([item])
                watcher.watch([message_id], sent_at)
                paced_ids.append(message_id)
                time.sleep(max(0.0, sent_at + 1 / PACED_RATE - time.monotonic()))
            run.wait_ingested(paced_ids, timeout=120)
            _wait_for_samples(watcher, time.monotonic() + 30)
            paced_latencies = [watcher.seen[m] - watcher.sent[m] for m in paced_ids if m in watcher.seen]
            report.latency_samples = len(watcher.sent) - before
            report.paced_latency_p50 = percentile(paced_latencies, 0.5)
            report.paced_latency_p95 = percentile(paced_latencies, 0.95)
        finally:
            watcher.stop()

        say("   draining")
        summaries = run.drain_all(runs=max(20, messages // 5000 + 5))
        empty = run.drain_all(runs=1)[0]  # what the last run's final, empty pull cost
        report.empty_drain_seconds = float(empty["seconds"])
        report.drained = sum(int(s["pulled"]) for s in summaries)
        report.drain_seconds = max(0.001, sum(float(s["seconds"]) for s in summaries) - report.empty_drain_seconds)
        report.drain_rate = report.drained / report.drain_seconds

        report.rss_peak_mib = {
            f"{name} {part}": mib
            for name, server in pipeline.servers.items()
            if server.process is not None
            for part, mib in peak_rss_mib(server.process.pid).items()
        }
        accounting = run.account(archive=report.complete)
        report.accounting = accounting.to_json()
        return report, accounting


def _plain_request(item: Item) -> bool:
    return item.kind == "http" and not item.duplicate


def _spread(indexes: list[int], count: int) -> list[int]:
    if len(indexes) <= count:
        return indexes
    step = len(indexes) / count
    return [indexes[int(n * step)] for n in range(count)]


def _wait_for_samples(watcher: RowWatcher, until: float) -> None:
    while time.monotonic() < until and len(watcher.seen) < len(watcher.sent):
        time.sleep(POLL_SECONDS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES)
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT_SECONDS, help="seconds (default 900)")
    args = parser.parse_args(argv)
    if not 1 <= args.messages <= 1_000_000:
        parser.error("--messages must be between 1 and 1,000,000")
    report, accounting = run_load(args.messages, min(args.time_limit, DEFAULT_TIME_LIMIT_SECONDS), print)
    print("\n".join(report.lines()))
    print(accounting.table("accounting of the load run"))
    return 0 if accounting.ok and report.complete else 1


if __name__ == "__main__":
    sys.exit(main())
