"""Does micro-batching concurrent `ingest` requests pay? Measured against the emulators.

N requests arrive on one instance with C of them in flight at once (gen2 `--concurrency`).
`direct`: each request stores its own row (one BigQuery append per message), as `ingest` does
with INGEST_BATCH_WAIT_MS=0. `batched`: requests go through sinks.batcher.MicroBatcher, which
gathers what arrives within the wait into one append. Prints messages/s, appends per 1,000
messages, and per-request latency (p50/p95) for each, and the ratio. The emulator's speed is
not BigQuery's; the append count is what carries over.

    .venv/bin/python bench/micro_batching.py [N]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sinks import env, outcome
from functions.config import Settings
from functions.outcome import Outcome
from local.emulators import Stack
from sinks.batcher import MicroBatcher
from sinks.bigquery import BigQuerySink

CONCURRENCY = (4, 16)
WAIT_SECONDS = 0.02


class Counted:
    """The sink's write, counting the append calls it reports."""

    def __init__(self, sink: BigQuerySink) -> None:
        self.sink, self.calls, self._lock = sink, 0, threading.Lock()

    def __call__(self, outcomes: Sequence[Outcome]) -> None:
        report = self.sink.write(outcomes)
        with self._lock:
            self.calls += report.api_calls


def run(label: str, submit: Callable[[Outcome], None], counted: Counted, n: int, first: int, workers: int) -> float:
    latencies: list[float] = []

    def one(i: int) -> None:
        started = time.perf_counter()
        submit(outcome(first + i))
        latencies.append(time.perf_counter() - started)

    counted.calls = 0
    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(n)))
    elapsed = time.perf_counter() - started
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"  {label:<8} {n / elapsed:>8,.0f} msg/s   {counted.calls * 1000 / n:>6.0f} appends/1k   "
          f"p50 {statistics.median(latencies) * 1000:>6.1f} ms   p95 {p95 * 1000:>6.1f} ms")  # fmt: skip
    return n / elapsed


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    print(f"bench/micro_batching.py: {n} requests per run, storage_write, batch wait {WAIT_SECONDS * 1000:.0f} ms")
    with Stack() as stack:
        environ = env(stack)
        sink = BigQuerySink(Settings.from_env(environ))
        sink.ensure()
        counted = Counted(sink)
        batcher = MicroBatcher(counted, max_wait=WAIT_SECONDS)
        sink.write([outcome(0)])  # warm the clients and the stream
        first = 1
        for workers in CONCURRENCY:
            print(f"{workers} requests in flight:")
            direct = run("direct", lambda o: counted([o]), counted, n, first, workers)
            batched = run(
                "batched", lambda o: batcher.submit(o, deadline=time.monotonic() + 60), counted, n, first + n, workers
            )
            first += 2 * n
            print(f"  batched/direct: {batched / direct:.2f}x")


if __name__ == "__main__":
    main()
