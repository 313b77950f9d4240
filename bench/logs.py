"""What one of the functions' own log lines costs, inside a Flask request as in production.

Times, in the same run, with the same message, fields and trace header, written to /dev/null:

* `ours`: sinks/logs.py's JsonLinesHandler (what the functions use);
* `baseline`: google-cloud-logging's StructuredLogHandler, which the functions used before
  (its filter reads the Flask request for every record).

Prints microseconds per line and the ratio. Usage: python bench/logs.py [N]
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask
from google.cloud.logging.handlers import StructuredLogHandler

from sinks import logs

HEADERS = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "Content-Type": "application/json"}
FIELDS = {"message_id": "2070443601311540", "outcome": "http", "reason": None, "seconds": 0.004}


def per_line(logger: logging.Logger, n: int, **extra: object) -> float:
    started = time.perf_counter()
    for _ in range(n):
        logger.info("http", extra=extra)
    return (time.perf_counter() - started) / n * 1e6


def main(n: int) -> None:
    app = flask.Flask("bench")
    devnull = open(os.devnull, "w")  # noqa: SIM115  # closed at exit
    ours, baseline = logging.getLogger("bench.ours"), logging.getLogger("bench.baseline")
    for logger in (ours, baseline):
        logger.setLevel(logging.INFO)
        logger.propagate = False
    ours.addHandler(logs.JsonLinesHandler("ingest", "blog-prod-123"))
    baseline.addHandler(
        StructuredLogHandler(labels={logs.OWN_LOG_LABEL: "ingest"}, project_id="blog-prod-123", stream=devnull)  # type: ignore[no-untyped-call]
    )
    trace = logs.trace_of({k.lower(): v for k, v in HEADERS.items()})
    with app.test_request_context("/", method="POST", headers=HEADERS), contextlib.redirect_stdout(devnull):
        per_line(ours, n // 10, fields=FIELDS, trace=trace)  # warm-up
        per_line(baseline, n // 10, json_fields=FIELDS)
        ours_us = per_line(ours, n, fields=FIELDS, trace=trace)
        baseline_us = per_line(baseline, n, json_fields=FIELDS)
    devnull.close()
    print(f"ours:     {ours_us:6.1f} us per line")
    print(f"baseline: {baseline_us:6.1f} us per line (google-cloud-logging StructuredLogHandler)")
    print(f"ours costs {ours_us / baseline_us:.2f}x the baseline ({baseline_us / ours_us:.1f}x cheaper)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
