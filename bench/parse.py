"""Parsing throughput on one core: message data -> outcome -> row ready for insertAll.

Builds a realistic mixed corpus in memory (mostly load-balancer `httpRequest` entries, some
nginx lines from GKE), then times, in the same run:

* `push`: functions.pipeline.process on base64 push data (what `ingest` does per message);
* `pull`: the same on raw pulled bytes (what `drain` does: no base64);
* `baseline`: the naive version of the same job, json.loads + dict lookups +
  urllib.parse.urlsplit per entry, with no validation and no fallbacks.

Prints entries/s for each and the ratio. Usage: python bench/parse.py [N]
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
    entry = json.loads(base64.b64decode(data))
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


def rate(label: str, work: Callable[[], object], n: int, repeat: int = 5) -> float:
    best = min(_timed(work) for _ in range(repeat))
    per_second = n / best
    print(f"  {label:<34} {per_second:>12,.0f} entries/s   ({best * 1e6 / n:.2f} µs/entry)")
    return per_second


def _each(work: Callable[[T], object], items: list[T]) -> list[object]:
    return [work(item) for item in items]


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    rng = random.Random(7)
    print(f"bench/parse.py: {n:,} entries per run, best of 5, one core")
    for name, share in (("httpRequest only", 0.0), ("mixed (80% LB, 20% nginx)", 0.2)):
        raw = corpus(n, share, rng)
        encoded = [base64.b64encode(d) for d in raw]
        pushed = [Message(data=d, message_id=str(i), data_is_base64=True) for i, d in enumerate(encoded)]
        pulled = [Message(data=d, message_id=str(i)) for i, d in enumerate(raw)]
        print(f"{name}:")
        push = rate("push: base64 -> outcome -> row", partial(_each, process, pushed), n)
        pull = rate("pull: bytes -> outcome -> row", partial(_each, process, pulled), n)
        base = rate("naive baseline (json+urlsplit)", partial(_each, naive, encoded), n)
        print(f"  ratio push/baseline: {push / base:.2f}x   pull/baseline: {pull / base:.2f}x")


if __name__ == "__main__":
    main()
