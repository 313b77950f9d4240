"""`python -m functions parse` against the naive script on the same file, as separate processes.

The file: 50,000 LogEntries as NDJSON, 80% load-balancer `httpRequest` entries and 20% nginx
lines from GKE (bench/parse.py's corpus, built from local/entries.py). The naive script is
what a first version would be: `json.loads`, pick the `httpRequest` fields, `urlsplit`,
`json.dumps` one outcome line; no validation, no access lines. Each runs 3 times, taking
turns; the best CPU time (user + system, which a shared machine does not inflate the way it
inflates wall time), wall time and peak RSS of each are printed, with the ratios.

Usage: python bench/cli.py [N]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WRITE_CORPUS = """
import random, sys
from bench.parse import corpus
with open(sys.argv[1], "wb") as out:
    out.write(b"\\n".join(corpus(int(sys.argv[2]), 0.2, random.Random(11))) + b"\\n")
"""

NAIVE = """
import json, sys
from urllib.parse import urlsplit
for line in open(sys.argv[1], "rb"):
    entry = json.loads(line)
    http = entry.get("httpRequest")
    if not http:
        print(json.dumps({"outcome": "other", "row": None}))
        continue
    parts = urlsplit(http.get("requestUrl", ""))
    row = {"timestamp": entry.get("timestamp"), "insert_id": entry.get("insertId"),
           "method": http.get("requestMethod"), "url": http.get("requestUrl"), "host": parts.hostname,
           "path": parts.path, "query": parts.query, "status": http.get("status"),
           "response_size": http.get("responseSize"), "latency": http.get("latency"),
           "user_agent": http.get("userAgent"), "remote_ip": http.get("remoteIp")}
    print(json.dumps({"outcome": "http", "row": row}))
"""


# Runs a program (a module with -m, else a file) and prints its own peak RSS (VmHWM) last on
# stderr: a child's rusage would also count the memory of the process it was forked from.
MEASURED = """
import runpy, sys
target, sys.argv = sys.argv[1], sys.argv[1:]
try:
    runpy.run_module(target[3:], run_name="__main__") if target.startswith("-m=") else runpy.run_path(target, run_name="__main__")
finally:
    print(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")), file=sys.stderr)
"""


def run(argv: list[str]) -> tuple[float, float, int, int]:
    """CPU seconds, wall seconds, peak RSS in KiB, and output lines of one program."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-c", MEASURED, *argv], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert child.stdout is not None and child.stderr is not None
    lines = sum(1 for _ in child.stdout)
    peak_kib = int(child.stderr.read().split()[-2])
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"{argv} failed with status {status}")
    return usage.ru_utime + usage.ru_stime, time.perf_counter() - start, peak_kib, lines


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "entries.ndjson"
        # Written by another process: a child's peak RSS counts the memory it was forked from.
        subprocess.run([sys.executable, "-c", WRITE_CORPUS, str(path), str(n)], cwd=ROOT, check=True)
        size = path.stat().st_size
        naive = Path(tmp) / "naive.py"
        naive.write_text(NAIVE)
        commands = {
            "python -m functions parse": ["-m=functions", "parse", str(path)],
            "naive script": [str(naive), str(path)],
        }
        best: dict[str, tuple[float, float, int]] = {}
        for _ in range(3):
            for label, argv in commands.items():
                cpu, wall, rss, lines = run(argv)
                assert lines == n, f"{label} printed {lines} lines for {n} entries"
                old = best.get(label, (float("inf"), float("inf"), 0))
                best[label] = (min(old[0], cpu), min(old[1], wall), max(old[2], rss))
    print(f"bench/cli.py: {n:,} entries (80% load balancer, 20% nginx on GKE), best of 3, {size:,} bytes")
    for label, (cpu, wall, rss) in best.items():
        print(f"  {label:<28} CPU {cpu:6.2f} s   wall {wall:6.2f} s   peak RSS {rss / 1024:6.1f} MiB")
    ours, theirs = best["python -m functions parse"], best["naive script"]
    print(f"  ratio (naive / ours): CPU {theirs[0] / ours[0]:.2f}x   wall {theirs[1] / ours[1]:.2f}x   "
          f"(target 2x, peak RSS <= 64 MiB: {ours[2] / 1024:.1f} MiB)")  # fmt: skip


if __name__ == "__main__":
    main()
