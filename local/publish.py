"""Publishes your own log file to the local pipeline started by `make up`.

Each line becomes one Pub/Sub message, as the Log Router would publish it: a LogEntry JSON
line is sent as is; any other line (an nginx/Apache/Envoy access line) is wrapped as the
`textPayload` of a `k8s_container` stdout entry whose timestamp is the line's own time
(so a historical log lands in its own days' partitions). Progress is printed every 5,000 lines.

    python -m local.publish access.log      (or: make publish FILE=access.log)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import orjson
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from functions import raw_line
from local.pipeline import FORWARD_TOPIC, TOPIC, UP_ENV_FILE

PROGRESS_EVERY = 5000


def as_payload(line: bytes, number: int, source: str) -> bytes:
    """A LogEntry JSON line as it is; anything else wrapped as a GKE container's stdout."""
    stripped = line.strip()
    if stripped.startswith(b"{"):
        try:
            orjson.loads(stripped)
        except orjson.JSONDecodeError:
            pass
        else:
            return stripped
    entry = raw_line.as_logentry(
        line.decode("utf-8", "backslashreplace"),
        insertId=f"{source}-{number}",
        logName="projects/local/logs/stdout",
        resource={"type": "k8s_container", "labels": {"project_id": "local", "container_name": "nginx"}},
    )
    return orjson.dumps(entry)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.publish", description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="access log or LogEntry NDJSON file")
    parser.add_argument("--forward", action="store_true", help="publish to forward's topic, as its own sink would")
    args = parser.parse_args(argv)
    if not UP_ENV_FILE.exists():
        print("error: no local pipeline is running: start one with `make up`", file=sys.stderr)
        return 1
    env = orjson.loads(UP_ENV_FILE.read_bytes())
    os.environ["PUBSUB_EMULATOR_HOST"] = env["PUBSUB_EMULATOR_HOST"]
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(env["GOOGLE_CLOUD_PROJECT"], FORWARD_TOPIC if args.forward else TOPIC)
    started, futures, number = time.monotonic(), [], 0
    with args.file.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            futures.append(publisher.publish(topic, as_payload(line.rstrip(b"\r\n"), number, args.file.name)))
            if number % PROGRESS_EVERY == 0:
                for future in futures:
                    future.result(timeout=60)
                futures.clear()
                print(f"published {number:,} lines ({number / (time.monotonic() - started):,.0f}/s)", flush=True)
    for future in futures:
        future.result(timeout=60)
    then = (
        "`curl -X POST <forward url>` sends them to syslog"
        if args.forward
        else "`curl -X POST <drain url>` archives them"
    )
    print(f"published {number:,} lines from {args.file} to {topic}; {then}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
