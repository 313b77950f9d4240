"""What each deployment mode costs: CPU-seconds and function requests per 1,000 messages,
measured on the local pipeline as deployed, and what they come to in dollars per million.

    .venv/bin/python bench/cost.py [--messages 2000] [--modes batch,push,both]

For each mode (README, Deploy: `batch`, `push`, `both`) it starts the local pipeline in that mode
(the emulators, and functions-framework under gunicorn for each function, as local/pipeline.py
runs them, at LOG_LEVEL=INFO as deployed), warms the functions up, measures their idle CPU,
publishes `--messages` load-balancer request entries (about 1.1 KB each, the most common export),
and waits until every one is stored as the mode stores it: `push` until `ingest` wrote every row;
`batch` by calling `drain` as Cloud Scheduler does until the subscription is empty; `both` both.

- CPU-seconds: user + system time of each function's process group (gunicorn's master and
  workers) from /proc, minus the group's idle rate over the same wall time. The emulators' CPU
  is not counted: on Google Cloud it is Google's.
- Function requests are counted where they arrive: Pub/Sub's pushes through a counting proxy in
  front of `ingest`, and this script's own calls of `drain`.
- Busy seconds: the time at least one request was in flight, which is what Cloud Run functions
  bill (instance time, not CPU time). Here it includes the emulators' latency, not Google's.
- Dollars: the measured figures times the list prices in PRICES (each with its pricing page),
  plus Pub/Sub, BigQuery and Cloud Storage volumes computed from the same messages.

The machine is shared and the emulators are not Google's services: CPU-seconds of our own code
carry over (same code, same interpreter); wall and busy times do not.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import os
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from functions.message import Message
from functions.pipeline import process
from functions.schema import HTTP_REQUESTS
from local import entries as fx
from local.harness import E2E, entry, push_body, sql_list, unique
from local.pipeline import BUCKET, INGEST_SUBSCRIPTION, MODES, LocalPipeline, Mode
from sinks.archive import compress
from sinks.bigquery import encode_rows
from sinks.clients import make_storage_client

WARM_UP_MESSAGES = 50
IN_FLIGHT = 16  # ingest_concurrency's default: the requests an instance serves at once
IDLE_SECONDS = 5.0
POLL_SECONDS = 0.5
WAIT_SECONDS = 900.0
TICKS = os.sysconf("SC_CLK_TCK")


# -- measuring -----------------------------------------------------------------------------------
def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process in a process group, and of its reaped children."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # exited meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        if int(fields[2]) == pgid:  # pgrp
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    return total / TICKS


class Busy:
    """Requests in flight on one function: how many there were, and for how long at least one was."""

    def __init__(self) -> None:
        self.requests = 0
        self.seconds = 0.0
        self._in_flight = 0
        self._since = 0.0
        self._lock = threading.Lock()

    @contextmanager
    def request(self) -> Iterator[None]:
        with self._lock:
            self.requests += 1
            if self._in_flight == 0:
                self._since = time.monotonic()
            self._in_flight += 1
        try:
            yield
        finally:
            with self._lock:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self.seconds += time.monotonic() - self._since


class CountingProxy:
    """An HTTP proxy on loopback in front of `ingest`: Pub/Sub's pushes, counted and timed."""

    def __init__(self, target: str, busy: Busy) -> None:
        parsed = urllib.parse.urlsplit(target)
        host, port = parsed.hostname or "127.0.0.1", parsed.port or 80

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream = http.client.HTTPConnection(host, port, timeout=120)
                try:
                    with busy.request():
                        upstream.request("POST", self.path, body, dict(self.headers.items()))
                        response = upstream.getresponse()
                        data = response.read()
                    self.send_response(response.status)
                    self.send_header("Content-Type", response.getheader("Content-Type") or "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream.close()

            def log_message(self, *_: object) -> None:
                return

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                if not isinstance(sys.exc_info()[1], ConnectionError):  # a client closing its keep-alive
                    super().handle_error(request, client_address)  # type: ignore[arg-type]

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class ModeCost:
    mode: Mode
    label: str  # the mode, and how pushes arrived
    messages: int
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # per function, idle subtracted
    requests: dict[str, int] = field(default_factory=dict)  # per function
    busy_seconds: dict[str, float] = field(default_factory=dict)  # per function: >= 1 request in flight
    objects: int = 0  # archive objects written
    seconds: float = 0.0  # wall time from the first publish until everything was stored
    empty_run_seconds: float = 0.0  # a drain run that finds nothing: what each scheduled run costs at least

    def per_thousand(self, value: float) -> float:
        return value * 1000 / self.messages


def payloads(count: int, tag: str) -> list[bytes]:
    """Load-balancer request entries (local/entries.py cites the format), each its own insertId."""
    return [entry(fx.load_balancer(), f"{tag}-{n:07d}") for n in range(count)]


def measure(mode: Mode, messages: int, say: Callable[[str], None]) -> list[ModeCost]:
    """The mode with Pub/Sub's emulator pushing (one push at a time); for `push`, also with 16
    pushes in flight, as Pub/Sub pushes a backlog, which lets `ingest` share appends."""
    pipeline = LocalPipeline(mode=mode)
    pipeline.server_env = {"LOG_LEVEL": "INFO"}  # as deployed: no line per message
    with pipeline, _pushes_through_proxy(pipeline) as (proxy, pushes):
        e2e = E2E(pipeline)
        groups = {name: server.process.pid for name, server in pipeline.servers.items() if server.process}
        say(f"== {mode}: {', '.join(groups)}; warming up, then {IDLE_SECONDS:.0f} s idle ==")
        _store_all(mode, e2e, payloads(WARM_UP_MESSAGES, unique("warm")), Busy())
        time.sleep(1.0)
        idle = {name: group_cpu_seconds(pgid) for name, pgid in groups.items()}
        time.sleep(IDLE_SECONDS)
        idle_rate = {name: (group_cpu_seconds(pgid) - idle[name]) / IDLE_SECONDS for name, pgid in groups.items()}

        def run(label: str, store: Callable[[list[bytes], Busy], None]) -> ModeCost:
            cost = ModeCost(mode, label, messages)
            pushed, pushed_seconds, objects = pushes.requests, pushes.seconds, _objects(pipeline)
            before = {name: group_cpu_seconds(pgid) for name, pgid in groups.items()}
            drains = Busy()
            say(f"   {label}: publishing {messages} messages and storing them")
            started = time.monotonic()
            store(payloads(messages, unique(f"cost-{mode}")), drains)
            cost.seconds = time.monotonic() - started
            for name, pgid in groups.items():
                used = group_cpu_seconds(pgid) - before[name]
                cost.cpu_seconds[name] = max(0.0, used - idle_rate[name] * cost.seconds)
            if pipeline.runs("ingest"):
                cost.requests["ingest"] = pushes.requests - pushed
                cost.busy_seconds["ingest"] = pushes.seconds - pushed_seconds
            if pipeline.runs("drain"):
                cost.requests["drain"], cost.busy_seconds["drain"] = drains.requests, drains.seconds
            cost.objects = _objects(pipeline) - objects
            return cost

        costs = [run(mode, lambda batch, drains: _store_all(mode, e2e, batch, drains))]
        if mode == "push":
            costs.append(run(f"push, {IN_FLIGHT} in flight", lambda batch, _: _push_concurrently(e2e, proxy, batch)))
        if pipeline.runs("drain"):
            costs[0].empty_run_seconds = _empty_run_seconds(e2e)
    return costs


def _empty_run_seconds(e2e: E2E, runs: int = 3) -> float:
    """The median time of a drain run on an empty subscription (each ends on an empty pull)."""
    times = []
    for _ in range(runs):
        started = time.monotonic()
        status, summary, _ = e2e.drain()
        if status != 200 or summary["pulled"]:
            raise RuntimeError(f"the subscription was not empty: {summary}")
        times.append(time.monotonic() - started)
    return sorted(times)[runs // 2]


@contextmanager
def _pushes_through_proxy(pipeline: LocalPipeline) -> Iterator[tuple[str, Busy]]:
    """Points the push subscription (when the mode has one) at a counting proxy before `ingest`."""
    busy = Busy()
    if not pipeline.runs("ingest"):
        yield "", busy
        return
    with CountingProxy(pipeline.servers["ingest"].url, busy) as proxy:
        subscriber = pubsub_v1.SubscriberClient()
        subscriber.modify_push_config(
            request={
                "subscription": subscriber.subscription_path(pipeline.settings.project, INGEST_SUBSCRIPTION),
                "push_config": {"push_endpoint": proxy.url},
            }
        )
        yield proxy.url, busy


def _push_concurrently(e2e: E2E, proxy: str, batch: list[bytes]) -> None:
    """POSTs each message as Pub/Sub's push would, IN_FLIGHT at a time, through the proxy."""
    bodies = [push_body(data, f"direct-{unique('m')}") for data in batch]

    def post(body: bytes) -> None:
        request = urllib.request.Request(proxy, data=body, method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            if response.status != 200:
                raise RuntimeError(f"ingest answered {response.status}")

    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        list(pool.map(post, bodies))
    _wait_rows(e2e, [orjson.loads(b)["message"]["messageId"] for b in bodies])


def _objects(pipeline: LocalPipeline) -> int:
    return sum(1 for _ in make_storage_client(pipeline.settings).list_blobs(BUCKET))


def _store_all(mode: Mode, e2e: E2E, batch: list[bytes], drains: Busy) -> None:
    """Publishes `batch` and returns once the mode stored all of it."""
    ids = e2e.publish(batch)
    if mode != "batch":
        _wait_rows(e2e, ids)
    while mode != "push" and e2e.pending:
        with drains.request():
            status, summary, _ = e2e.drain()
        if status != 200:
            raise RuntimeError(f"drain answered {status}: {summary}")
        if drains.requests > 1000:
            raise RuntimeError(f"drain left {len(e2e.pending)} messages after 1,000 calls")
    if mode == "batch":
        _wait_rows(e2e, ids)


def _wait_rows(e2e: E2E, ids: list[str]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    wanted = set(ids)
    while True:
        found: set[str] = set()
        for start in range(0, len(ids), 1000):
            part = sql_list(ids[start : start + 1000])
            found |= {r["message_id"] for r in e2e.query(f"SELECT message_id FROM `logs.http_requests` WHERE message_id IN ({part})")}  # fmt: skip
        if found >= wanted:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{len(wanted - found)} of {len(wanted)} messages have no row after {WAIT_SECONDS:.0f} s"
            )
        time.sleep(POLL_SECONDS)


# -- dollars -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Price:
    dollars: float
    per: str
    source: str


# List prices in USD, Tier 1 regions (e.g. us-central1, europe-west1), before free tiers and discounts.
PRICES = {
    "request": Price(0.40 / 1e6, "function request", "https://cloud.google.com/run/pricing"),
    "vcpu_second": Price(0.000024, "vCPU-second, request-based billing", "https://cloud.google.com/run/pricing"),
    "gib_second": Price(0.0000025, "GiB-second, request-based billing", "https://cloud.google.com/run/pricing"),
    "pubsub_tib": Price(40.0, "TiB published or delivered", "https://cloud.google.com/pubsub/pricing"),
    "storage_write_gib": Price(0.025, "GiB, Storage Write API", "https://cloud.google.com/bigquery/pricing"),
    "insert_all_gib": Price(0.05, "GiB, insertAll (1 KB minimum per row)", "https://cloud.google.com/bigquery/pricing"),
    "object_write": Price(0.005 / 1000, "object write (Class A)", "https://cloud.google.com/storage/pricing"),
    "scheduler_job": Price(0.10, "scheduler job-month", "https://cloud.google.com/scheduler/pricing"),
    "dataflow_vcpu_hour": Price(0.069, "streaming vCPU-hour", "https://cloud.google.com/dataflow/pricing"),
    "dataflow_gb_hour": Price(0.003557, "streaming GB-hour", "https://cloud.google.com/dataflow/pricing"),
}
GIB, TIB = 2**30, 2**40
MEMORY_GIB = {"ingest": 0.5, "drain": 1.0}  # terraform/variables.tf: ingest_memory, drain_memory
SUBSCRIPTIONS = {"batch": 1, "push": 1, "both": 2}
RUNS_PER_MONTH = 60 * 24 * 30  # drain every minute (drain_schedule)
HOURS_PER_MONTH = 730
REQUEST_FLOOR_SECONDS = 0.1  # Cloud Run bills instance time in 100 ms steps: a request alone costs at least that
VOLUMES_PER_MONTH = (1e6, 1e7, 1e8)
# Issue 13's targets: batch at most 0.1 CPU-s per 1,000 messages; push at most half of the
# 3.9-5.0 measured before it (the lower end taken).
TARGETS: dict[str, float] = {"batch": 0.1, "push": 1.95}


@dataclass(frozen=True, slots=True)
class Volumes:
    """Per message, from the same entries the run published."""

    pubsub_bytes: float  # data + attributes + 20-byte timestamp + message id, as Pub/Sub bills
    row_bytes: float  # the Storage Write API row
    archive_bytes: float  # its share of a gzip archive object


def volumes(batch: list[bytes]) -> Volumes:
    outcomes = [process(Message(d, f"{n:016d}", "2026-11-20T09:15:03.000000Z")) for n, d in enumerate(batch)]
    encoded, _ = encode_rows(HTTP_REQUESTS, [o.row for o in outcomes if o.row is not None])
    attribute = len("logging.googleapis.com/timestamp") + len("2026-11-20T09:15:02.123456789Z")
    _, archived = compress(batch)
    return Volumes(
        pubsub_bytes=sum(map(len, batch)) / len(batch) + attribute + 20 + 16,
        row_bytes=sum(map(len, encoded.values())) / len(encoded),
        archive_bytes=len(archived) / len(batch),
    )


def per_million(cost: ModeCost, size: Volumes) -> dict[str, float]:
    """The variable dollars of a million messages, by line. Cloud Run functions bill instance time
    (at least one request in flight) times the instance's vCPU and memory; it is given three ways:
    the CPU-seconds (what it cannot be below), the busy time measured here (the emulators' latency
    included), and for pushes one 100 ms billing step per request (each alone: low traffic)."""
    p = {name: price.dollars for name, price in PRICES.items()}
    per_second = {f: p["vcpu_second"] + MEMORY_GIB[f] * p["gib_second"] for f in cost.requests}
    million = 1000  # thousands
    lines = {
        "function requests": sum(cost.per_thousand(n) for n in cost.requests.values()) * million * p["request"],
        "Pub/Sub (publish + each subscription)": (1 + SUBSCRIPTIONS[cost.mode])
        * size.pubsub_bytes
        * 1e6
        / TIB
        * p["pubsub_tib"],
        "BigQuery Storage Write": size.row_bytes * 1e6 / GIB * p["storage_write_gib"],
        "Cloud Storage object writes": cost.per_thousand(cost.objects) * million * p["object_write"],
    }
    lines[INSTANCE_CPU] = sum(cost.per_thousand(cost.cpu_seconds[f]) * million * per_second[f] for f in cost.requests)
    lines[INSTANCE_BUSY] = sum(cost.per_thousand(cost.busy_seconds[f]) * million * per_second[f] for f in cost.requests)
    if "ingest" in cost.requests:
        pushes = cost.per_thousand(cost.requests["ingest"]) * million
        lines[INSTANCE_STEP] = pushes * REQUEST_FLOOR_SECONDS * per_second["ingest"] + sum(
            cost.per_thousand(cost.busy_seconds[f]) * million * per_second[f] for f in cost.requests if f != "ingest"
        )
    return lines


INSTANCE_CPU = "instance time = CPU-seconds (floor)"
INSTANCE_BUSY = "instance time = busy time measured here"
INSTANCE_STEP = "instance time = 100 ms per push (low traffic)"
INSTANCE_LINES = (INSTANCE_CPU, INSTANCE_BUSY, INSTANCE_STEP)


def fixed_per_month(cost: ModeCost) -> dict[str, float]:
    """What a mode costs a month whatever the traffic: a drain run every minute."""
    if "drain" not in cost.requests:
        return {}
    p = {name: price.dollars for name, price in PRICES.items()}
    billed = max(REQUEST_FLOOR_SECONDS, cost.empty_run_seconds) * RUNS_PER_MONTH
    return {
        "scheduler job": p["scheduler_job"],
        "drain runs: requests": RUNS_PER_MONTH * p["request"],
        "drain runs: instance time": billed * (p["vcpu_second"] + MEMORY_GIB["drain"] * p["gib_second"]),
    }


def alternatives(size: Volumes, payload_bytes: float) -> dict[str, tuple[float, float]]:
    """(fixed $ a month, $ per million) of what a user would pick instead."""
    p = {name: price.dollars for name, price in PRICES.items()}
    dataflow_hour = 2 * p["dataflow_vcpu_hour"] + 7.5 * p["dataflow_gb_hour"]  # one n1-standard-2 streaming worker
    pubsub = 2 * size.pubsub_bytes * 1e6 / TIB * p["pubsub_tib"]
    return {
        # The sink streams each LogEntry with the legacy insertAll (1 KB minimum per row).
        "Cloud Logging sink to BigQuery": (0.0, max(1024, payload_bytes) * 1e6 / GIB * p["insert_all_gib"]),
        "Dataflow Pub/Sub to BigQuery template, 1 worker": (
            dataflow_hour * HOURS_PER_MONTH,
            pubsub + size.row_bytes * 1e6 / GIB * p["storage_write_gib"],
        ),
    }


# -- the report ----------------------------------------------------------------------------------
def report(costs: Sequence[ModeCost], size: Volumes, payload_bytes: float) -> list[str]:
    out = ["", "== measured, per 1,000 messages (busy s: time with a request in flight) =="]
    out.append(f"{'':<22}{'function':<9}{'CPU-s':>8}{'requests':>10}{'busy s':>9}{'objects':>9}")
    for c in costs:
        for f in c.requests:
            objects = c.per_thousand(c.objects) if f == "drain" else 0.0
            out.append(f"{c.label:<22}{f:<9}{c.per_thousand(c.cpu_seconds[f]):>8.3f}"
                       f"{c.per_thousand(c.requests[f]):>10.1f}{c.per_thousand(c.busy_seconds[f]):>9.2f}{objects:>9.1f}")  # fmt: skip
        if len(c.requests) > 1:
            out.append(f"{c.label:<22}{'total':<9}{c.per_thousand(sum(c.cpu_seconds.values())):>8.3f}"
                       f"{c.per_thousand(sum(c.requests.values())):>10.1f}")  # fmt: skip
        if c.empty_run_seconds:
            out.append(f"{c.label:<22}a drain run on an empty subscription: {c.empty_run_seconds:.3f} s")
    for c in costs:
        cpu = c.per_thousand(sum(c.cpu_seconds.values()))
        target = TARGETS.get(c.mode)
        if target is not None:
            verdict = "met" if cpu <= target else "NOT met"
            out.append(f"target, {c.label}: {cpu:.3f} CPU-s per 1,000 <= {target}: {verdict}")
    out += ["", f"per message: Pub/Sub {size.pubsub_bytes:.0f} B, Storage Write row {size.row_bytes:.0f} B, "
            f"archive {size.archive_bytes:.0f} B gzip (this corpus compresses far better than real logs)"]  # fmt: skip
    for c in costs:
        out += ["", f"== {c.label}: dollars per million messages, list prices =="]
        lines = per_million(c, size)
        for name, dollars in lines.items():
            out.append(f"  {name:<48}${dollars:>9.4f}")
        base = sum(v for k, v in lines.items() if k not in INSTANCE_LINES)
        fixed = fixed_per_month(c)
        for name, dollars in fixed.items():
            out.append(f"  fixed: {name:<41}${dollars:>9.4f} a month")
        for instance in (k for k in INSTANCE_LINES if k in lines):
            variable = base + lines[instance]
            at = ", ".join(
                f"${variable + sum(fixed.values()) / (v / 1e6):.3f} at {v / 1e6:.0f} M" for v in VOLUMES_PER_MONTH
            )
            out.append(f"  with {instance}: ${variable:.4f} per million; per million a month: {at}")
    out += ["", "== what a user would pick instead =="]
    for name, (fixed_month, million) in alternatives(size, payload_bytes).items():
        at = ", ".join(f"${million + fixed_month / (v / 1e6):.3f} at {v / 1e6:.0f} M" for v in VOLUMES_PER_MONTH)
        out.append(f"  {name}: ${fixed_month:.2f} a month + ${million:.4f} per million; per million a month: {at}")
    out += ["", "prices:"] + [f"  ${p.dollars:g} per {p.per}: {p.source}" for p in PRICES.values()]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated among batch, push, both")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if not set(modes) <= set(MODES):
        parser.error(f"--modes: choose among {', '.join(MODES)}")
    print("bench/cost.py: starting the emulators (installs them on first use); the machine is shared", flush=True)
    costs = [cost for mode in modes for cost in measure(mode, args.messages, lambda s: print(s, flush=True))]
    sample = payloads(1000, "size")
    print("\n".join(report(costs, volumes(sample), sum(map(len, sample)) / len(sample))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
