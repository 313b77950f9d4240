"""Parsing throughput on one core: message data -> outcome -> row ready for insertAll.

Builds a realistic mixed corpus in memory from the product's samples (local/entries.py:
mostly load-balancer `httpRequest` entries, some nginx lines from GKE), then times, in the
same run and interleaved round by round (the machine may be shared):

* `push`: functions.pipeline.process on base64 push data (what `ingest` does per message);
* `pull`: the same on raw pulled bytes (what `drain` does: no base64);
* `naive baseline`: the naive version of the push job, base64 + json.loads + dict lookups +
  urllib.parse.urlsplit per entry, with no validation and no fallbacks; the targets
  (issue 11) are push and pull >= 2x this;
* `naive pull baseline`: the same without base64, printed so that pull's ratio against a
  baseline doing exactly its job is visible too.

Every work keeps all its results, as the first version of this bench did: that is the mode
the targets are measured in. `--drop` drops each result once built instead, as `ingest` does
with a message it has written: keeping 50,000 rows alive costs the allocator and the caches
about a third of the time here, and our rows (32 columns) are bigger than the naive ones (12).

Prints entries/s for each and the ratios. Usage: python bench/parse.py [N] [--drop]
"""

from __future__ import annotations

import base64
import json
import random
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from functions.message import Message
from functions.pipeline import process
from local import entries as fx

T = TypeVar("T")
PATHS = ["/", "/posts/hello-world", "/feed.xml", "/tags/python", "/static/app.3f9a1c.js", "/api/comments"]
AGENTS = ["Go-http-client/1.1", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "curl/8.5.0"]


def corpus(n: int, nginx_share: float, rng: random.Random) -> list[bytes]:
    """`n` LogEntries as JSON bytes; `nginx_share` of them nginx access lines."""
    out = []
    for i in range(n):
        path = rng.choice(PATHS)
        if rng.random() < nginx_share:
            line = (
                f'10.8.{i % 250}.{i % 200} - - [20/Nov/2026:09:15:02 +0000] "GET {path} HTTP/1.1" '
                f'{rng.choice((200, 200, 304, 404))} {rng.randrange(100, 90000)} "-" "{rng.choice(AGENTS)}"'
            )
            entry = fx.gke_container(line)
        else:
            entry = fx.load_balancer()
            entry["httpRequest"].update(
                requestUrl=f"https://blog.example.com{path}?page={i % 7}",
                status=rng.choice((200, 200, 200, 301, 404, 503)),
                responseSize=str(rng.randrange(100, 900000)),
                userAgent=rng.choice(AGENTS),
                latency=f"{rng.random():.6f}s",
            )
        entry["insertId"] = f"{i:012x}"
        out.append(fx.data(entry))
    return out


def naive(data: bytes) -> dict[str, object] | None:
    """The baseline: what a first version would write, trusting every field."""
    return naive_pulled(base64.b64decode(data))


def naive_pulled(data: bytes) -> dict[str, object] | None:
    entry = json.loads(data)
    http = entry.get("httpRequest")
    if not http:
        return None
    parts = urlsplit(http.get("requestUrl", ""))
    return {
        "timestamp": entry.get("timestamp"),
        "insert_id": entry.get("insertId"),
        "method": http.get("requestMethod"),
        "url": http.get("requestUrl"),
        "host": parts.hostname,
        "path": parts.path,
        "query": parts.query,
        "status": int(http.get("status", 0)),
        "response_size": int(http.get("responseSize", 0)),
        "latency_seconds": float(http.get("latency", "0s").rstrip("s")),
        "user_agent": http.get("userAgent"),
        "remote_ip": http.get("remoteIp"),
    }


def best_of(works: dict[str, Callable[[], object]], rounds: int = 7) -> dict[str, float]:
    """Seconds of the fastest round of each work; the works take turns within a round."""
    best = dict.fromkeys(works, float("inf"))
    for _ in range(rounds):
        for label, work in works.items():
            best[label] = min(best[label], _timed(work))
    return best


def _each(work: Callable[[T], object], items: list[T]) -> list[object]:
    return [work(item) for item in items]


def _each_dropped(work: Callable[[T], object], items: list[T]) -> None:
    for item in items:
        work(item)


def _timed(work: Callable[[], object]) -> float:
    """CPU seconds of this process: on a shared machine, wall time also counts other people's work."""
    start = time.process_time()
    work()
    return time.process_time() - start


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--drop"]
    n = int(args[0]) if args else 50_000
    each: Callable[[Callable[[T], object], list[T]], object] = _each_dropped if "--drop" in sys.argv else _each
    rng = random.Random(7)
    kept = "each result dropped once built" if each is _each_dropped else "every result kept"
    print(f"bench/parse.py: {n:,} entries per run, best of 7 interleaved rounds, CPU time, one core, {kept}")
    for name, share in (("httpRequest only", 0.0), ("mixed (80% LB, 20% nginx)", 0.2)):
        raw = corpus(n, share, rng)
        encoded = [base64.b64encode(d) for d in raw]
        pushed = [Message(data=d, message_id=str(i), data_is_base64=True) for i, d in enumerate(encoded)]
        pulled = [Message(data=d, message_id=str(i)) for i, d in enumerate(raw)]
        best = best_of({
            "push: base64 -> outcome -> row": partial(each, process, pushed),
            "pull: bytes -> outcome -> row": partial(each, process, pulled),
            "naive baseline (b64+json+urlsplit)": partial(each, naive, encoded),
            "naive pull baseline (json+urlsplit)": partial(each, naive_pulled, raw),
        })  # fmt: skip
        print(f"{name}:")
        for label, seconds in best.items():
            print(f"  {label:<36} {n / seconds:>12,.0f} entries/s   ({seconds * 1e6 / n:.2f} µs/entry)")
        push, pull, base, base_pull = best.values()
        print(f"  ratio push/baseline: {base / push:.2f}x   pull/baseline: {base / pull:.2f}x   "
              f"pull/naive pull: {base_pull / pull:.2f}x")  # fmt: skip


if __name__ == "__main__":
    main()
