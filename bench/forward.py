"""`forward`'s two costs, in messages per second per core, each against a baseline measured in
the same run:

* rendering: pulled message data -> RFC 5424 message -> frame (functions/syslog.py), against a
  naive renderer (json.loads + one f-string, no validation, escaping, limits or fallbacks);
* sending: one batch over one TLS connection to the local rsyslog (local/syslog_receiver.py),
  confirmed as `forward` confirms it (TCP acknowledgement, then the receiver's close), against
  the same bytes written over TLS and closed without waiting for anything. The gap is what
  "acked only once the receiver read it" costs. Client CPU is measured with process_time, so
  "per core" does not count rsyslog's own core.

The corpus is a realistic mix: load balancer requests, nginx lines, Cloud Run app logs, stack traces.

    .venv/bin/python bench/forward.py [N]
"""

from __future__ import annotations

import json
import random
import socket
import ssl
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from functions import syslog
from functions.config import parse_destination
from local import entries as fx
from local.syslog_receiver import SyslogReceiver, ensure_installed
from sinks.syslog import SyslogSender

REPEAT = 5
BATCH = 1000  # forward's default batch: one pull


def corpus(n: int, rng: random.Random) -> list[bytes]:
    out = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.5:
            entry = fx.load_balancer()
            entry["httpRequest"]["responseSize"] = str(rng.randrange(100, 900_000))
        elif roll < 0.8:
            entry = fx.gke_container(fx.NGINX_COMBINED)
        elif roll < 0.95:
            entry = fx.cloud_run_app_log()
        else:
            entry = fx.stack_trace()
        entry["insertId"] = f"bench-{i:08d}"
        out.append(fx.data(entry))
    return out


def naive(data: bytes) -> bytes:
    """The baseline a first version would write: trusts every field, escapes nothing."""
    entry = json.loads(data)
    labels = entry.get("resource", {}).get("labels", {})
    text = entry.get("textPayload") or json.dumps(entry.get("jsonPayload") or entry.get("httpRequest"))
    message = (
        f"<14>1 {entry.get('timestamp', '-')} {labels.get('pod_name', '-')} {labels.get('container_name', '-')} - - "
        f'[x@1 insertId="{entry.get("insertId")}"] {text}'
    ).encode()
    return b"%d %b" % (len(message), message)


def ours(data: bytes) -> bytes:
    rendered = syslog.render_data(data, syslog.Options())
    assert rendered.message is not None
    return syslog.frame(rendered.message, "octet-counting")


def best(work: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, client CPU seconds) of the fastest of REPEAT runs."""
    runs = []
    for _ in range(REPEAT):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(runs)


def report(label: str, n: int, wall: float, cpu: float) -> float:
    per_core = n / cpu if cpu > 0 else float("inf")
    print(f"  {label:<46} {n / wall:>10,.0f} msg/s wall  {per_core:>10,.0f} msg/s per client core")
    return per_core


def plain_tls(receiver: SyslogReceiver, frames: list[bytes]) -> int:
    """The baseline send: connect, write, close_notify, no waiting for anything; bytes written."""
    context = ssl.create_default_context(cafile=str(receiver.ca_path))
    with (
        socket.create_connection(("127.0.0.1", receiver.port)) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        payload = b"".join(frames)
        tls.sendall(payload)
        return len(payload)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    data = corpus(n, random.Random(5))
    print(f"bench/forward.py: {n:,} messages, best of {REPEAT}; shared 2-core machine")

    print("rendering (one core):")
    render_wall, render_cpu = best(lambda: [ours(d) for d in data])
    naive_wall, naive_cpu = best(lambda: [naive(d) for d in data])
    mine = report("functions/syslog.py render + frame", n, render_wall, render_cpu)
    base = report("naive baseline (json + f-string)", n, naive_wall, naive_cpu)
    print(f"  ratio ours/baseline: {mine / base:.2f}x")

    frames = [ours(d) for d in data]
    batches = [frames[i : i + BATCH] for i in range(0, n, BATCH)]
    size = sum(map(len, frames))
    with tempfile.TemporaryDirectory(prefix="bench-forward-") as state:
        receiver = SyslogReceiver(Path(state), ensure_installed())
        receiver.start()
        try:
            sender = SyslogSender(parse_destination(receiver.destination), ca_file=str(receiver.ca_path))
            print(f"sending over TLS to the local rsyslog, {BATCH:,} messages per connection ({size / n:.0f} B each):")
            send_wall, send_cpu = best(lambda: [sender.send(b) for b in batches])
            plain_wall, plain_cpu = best(lambda: [plain_tls(receiver, b) for b in batches])
            confirmed = report("SyslogSender.send (confirmed)", n, send_wall, send_cpu)
            report("baseline: TLS write and close, unconfirmed", n, plain_wall, plain_cpu)
            print(f"  wall ratio confirmed/unconfirmed: {plain_wall / send_wall:.2f}x  "
                  f"(per connection {send_wall / len(batches) * 1000:.1f} ms vs {plain_wall / len(batches) * 1000:.1f} ms)")  # fmt: skip
            print(
                f"  end to end per client core (render + confirmed send): {1 / (1 / mine + 1 / confirmed):,.0f} msg/s"
            )
        finally:
            receiver.stop()


if __name__ == "__main__":
    main()
