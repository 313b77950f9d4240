"""The whole pipeline on this machine: the emulators, functions-framework serving the functions
of a deployment mode, and the topic and subscriptions wired as Terraform wires them in the cloud:

- `batch` (the deployed default): a pull subscription and `drain`, which writes rows and archive;
- `push`: a push subscription to `ingest`, which writes rows;
- `both` (the default here, so that tests can reach every function): `ingest` writes rows
  and `drain` archives.

With `forward=True`, also `forward`, its own topic and subscription (its Log Router sink has
its own filter in the cloud), and a local rsyslog receiving over TLS in place of Papertrail.

    with LocalPipeline(mode="batch") as p:
        p.publish([entry_bytes, ...])
        p.drain()

Used by the demo (local/demo.py), `make up`, the end-to-end tests and the reliability runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import orjson
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from functions.config import Settings
from local import syslog_receiver
from local.emulators import INSTALL_DIR, ROOT, Stack, free_port
from sinks.bigquery import BigQuerySink
from sinks.clients import make_storage_client

Mode = Literal["batch", "push", "both"]
MODES: tuple[Mode, ...] = ("batch", "push", "both")
DEFAULT_MODE: Mode = "batch"  # terraform/variables.tf `mode` and deploy/gcloud-deploy.sh MODE default to it too
TOPIC = "cloud-logging-export"
INGEST_SUBSCRIPTION = "logexport-ingest"
DRAIN_SUBSCRIPTION = "logexport-drain"
DEAD_LETTER_TOPIC = "logexport-dead-letter"
DEAD_LETTER_SUBSCRIPTION = "logexport-dead-letter-inspect"
FORWARD_TOPIC = "cloud-logging-forward"
FORWARD_SUBSCRIPTION = "logexport-forward"
FORWARD_DEAD_LETTER_TOPIC = "logexport-forward-dead-letter"
FORWARD_DEAD_LETTER_SUBSCRIPTION = "logexport-forward-dead-letter-inspect"
BUCKET = "logexport-archive"
UP_ENV_FILE = INSTALL_DIR / "run" / "up.json"  # where `make up` tells `make publish` how to reach it
MAX_DELIVERY_ATTEMPTS = 5
ACK_DEADLINE_SECONDS = 20
# drain writes rows too in `batch`: two writes of WRITE_BUDGET_SECONDS must fit the ack deadline
# (functions/config.py check_drain).
BATCH_ACK_DEADLINE_SECONDS = 30
# Timeouts and budgets short enough for faults to show within a test run, nested as the
# functions require (tests/functions/test_config.py checks); per-message log lines on, because
# the harness reads ingest's outcomes from them.
FUNCTION_SETTINGS = {
    "WRITE_BUDGET_SECONDS": "10",
    "DRAIN_BUDGET_SECONDS": "60",
    "INGEST_TIMEOUT_SECONDS": "15",
    "DRAIN_TIMEOUT_SECONDS": "180",
    "LOG_LEVEL": "DEBUG",
}


class FunctionServer:
    """One functions-framework process serving one entry point of main.py on loopback."""

    def __init__(self, target: str, signature: str, env: dict[str, str], log_dir: Path) -> None:
        self.target, self.signature, self.env = target, signature, env
        self.port = free_port()
        self.log_path = log_dir / f"{target}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 30.0) -> None:
        command = [
            str(Path(sys.executable).parent / "functions-framework"),
            "--target", self.target, "--signature-type", self.signature, "--source", str(ROOT / "main.py"),
            "--host", "127.0.0.1", "--port", str(self.port),
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            # Its own process group: gunicorn forks workers, and a SIGKILL must reach them too.
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.target} exited: see {self.log_path}")
            if _listening(self.port):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.target} did not start within {timeout:.0f}s: see {self.log_path}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        """SIGKILL, as a crashed instance dies: no cleanup, no acks."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None


def _listening(port: int) -> bool:
    """A TCP connect, not a request: a request to `drain` would run it."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class LocalPipeline:
    def __init__(
        self,
        state_dir: Path | None = None,
        write_method: str = "storage_write",
        *,
        mode: Mode = "both",
        forward: bool = False,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.ack_deadline_seconds = BATCH_ACK_DEADLINE_SECONDS if mode == "batch" else ACK_DEADLINE_SECONDS
        self._own_state = state_dir is None
        self.state_dir = state_dir or Path(tempfile.mkdtemp(prefix="pipeline-"))
        self.stack = Stack(self.state_dir / "emulators")
        self.receiver = (
            syslog_receiver.SyslogReceiver(self.state_dir / "emulators", syslog_receiver.ensure_installed())
            if forward
            else None
        )
        self.write_method = write_method
        self.servers: dict[str, FunctionServer] = {}
        # Set before start(): extra environment for the function servers only, e.g. a fault
        # injector's proxy in front of an emulator (local/reliability.py); this process's own
        # clients keep talking to the emulators directly.
        self.server_env: dict[str, str] = {}

    # -- set up ------------------------------------------------------------------------------
    def function_env(self) -> dict[str, str]:
        """The functions' configuration here, as Terraform sets it in the cloud."""
        project = self.stack.env()["GOOGLE_CLOUD_PROJECT"]
        return {
            **self.stack.env(),
            "BIGQUERY_DATASET": "logs",
            "BIGQUERY_WRITE_METHOD": self.write_method,
            "ARCHIVE_BUCKET": BUCKET,
            "ARCHIVE_PREFIX": "logs",
            "DRAIN_SUBSCRIPTION": f"projects/{project}/subscriptions/{DRAIN_SUBSCRIPTION}",
            "DRAIN_WRITE_BIGQUERY": "true" if self.mode == "batch" else "false",  # in `both`, ingest writes rows
            "ACK_DEADLINE_SECONDS": str(self.ack_deadline_seconds),
            **FUNCTION_SETTINGS,
            **self._forward_env(project),
        }

    def _forward_env(self, project: str) -> dict[str, str]:
        if self.receiver is None:
            return {}
        return {
            "FORWARD_SUBSCRIPTION": f"projects/{project}/subscriptions/{FORWARD_SUBSCRIPTION}",
            "FORWARD_BUDGET_SECONDS": "60",
            "FORWARD_SEND_TIMEOUT_SECONDS": "5",
            **self.receiver.env(),
        }

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.function_env()}

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.env())

    def start(self) -> None:
        try:
            self.stack.start()
            if self.receiver is not None:
                self.receiver.start()
            env = self.env()
            os.environ.update(self.stack.env())  # this process's own clients talk to the emulators too
            BigQuerySink(self.settings).ensure()
            make_storage_client(self.settings).create_bucket(BUCKET)
            server_env = {**env, **self.server_env}
            self.servers = {
                name: FunctionServer(name, "http", server_env, self.state_dir)
                for name in ("ingest", "drain")
                if self.runs(name)
            }
            if self.receiver is not None:
                self.servers["forward"] = FunctionServer("forward", "http", server_env, self.state_dir)
            for server in self.servers.values():
                server.start()
            self._create_topics()
        except BaseException:
            self.stop()
            raise

    def runs(self, function: str) -> bool:
        """Whether this mode deploys `ingest` (push) or `drain` (pull)."""
        return self.mode in (("push", "both") if function == "ingest" else ("batch", "both"))

    def _create_topics(self) -> None:
        project = self.settings.project
        publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
        self.topic = publisher.topic_path(project, TOPIC)
        dead_letter = publisher.topic_path(project, DEAD_LETTER_TOPIC)
        for topic in (self.topic, dead_letter):
            publisher.create_topic(name=topic)
        policy = {"dead_letter_topic": dead_letter, "max_delivery_attempts": MAX_DELIVERY_ATTEMPTS}
        retry = {"minimum_backoff": {"seconds": 1}, "maximum_backoff": {"seconds": 5}}
        if self.runs("ingest"):
            subscriber.create_subscription(request={
                "name": subscriber.subscription_path(project, INGEST_SUBSCRIPTION), "topic": self.topic,
                "push_config": {"push_endpoint": self.servers["ingest"].url},
                "ack_deadline_seconds": self.ack_deadline_seconds, "dead_letter_policy": policy, "retry_policy": retry,
            })  # fmt: skip
        if self.runs("drain"):
            subscriber.create_subscription(request={
                "name": subscriber.subscription_path(project, DRAIN_SUBSCRIPTION), "topic": self.topic,
                "ack_deadline_seconds": self.ack_deadline_seconds, "dead_letter_policy": policy, "retry_policy": retry,
            })  # fmt: skip
        subscriber.create_subscription(
            request={"name": subscriber.subscription_path(project, DEAD_LETTER_SUBSCRIPTION), "topic": dead_letter}
        )
        self.publisher = publisher
        if self.receiver is not None:
            self._create_forward_topics(publisher, subscriber, retry)

    def _create_forward_topics(self, publisher: Any, subscriber: Any, retry: dict[str, Any]) -> None:
        """`forward`'s own topic (its sink's), a pull subscription with a dead-letter topic."""
        project = self.settings.project
        self.forward_topic = publisher.topic_path(project, FORWARD_TOPIC)
        dead_letter = publisher.topic_path(project, FORWARD_DEAD_LETTER_TOPIC)
        for topic in (self.forward_topic, dead_letter):
            publisher.create_topic(name=topic)
        subscriber.create_subscription(request={
            "name": subscriber.subscription_path(project, FORWARD_SUBSCRIPTION), "topic": self.forward_topic,
            "ack_deadline_seconds": self.ack_deadline_seconds, "retry_policy": retry,
            "dead_letter_policy": {"dead_letter_topic": dead_letter, "max_delivery_attempts": MAX_DELIVERY_ATTEMPTS},
        })  # fmt: skip
        subscriber.create_subscription(
            request={
                "name": subscriber.subscription_path(project, FORWARD_DEAD_LETTER_SUBSCRIPTION),
                "topic": dead_letter,
            }
        )

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()
        if self.receiver is not None:
            self.receiver.stop()
        self.stack.stop()
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def __enter__(self) -> LocalPipeline:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # -- use ---------------------------------------------------------------------------------
    def publish(self, payloads: Iterable[bytes], attributes: dict[str, str] | None = None) -> list[str]:
        """Publishes each payload as one message, as the Log Router does; returns message ids."""
        futures = [self.publisher.publish(self.topic, payload, **(attributes or {})) for payload in payloads]
        return [f.result(timeout=60) for f in futures]

    def publish_forward(self, payloads: Iterable[bytes]) -> list[str]:
        """Publishes to `forward`'s topic, as its own Log Router sink does; returns message ids."""
        futures = [self.publisher.publish(self.forward_topic, payload) for payload in payloads]
        return [f.result(timeout=60) for f in futures]

    def forward(self, timeout: float = 120.0) -> dict[str, Any]:
        """Calls `forward` as Cloud Scheduler would; returns its JSON summary."""
        return self.drain(timeout, server="forward")

    def drain(self, timeout: float = 120.0, server: str = "drain") -> dict[str, Any]:
        """Calls `drain` as Cloud Scheduler would; returns its JSON summary."""
        url = self.servers[server].url
        request = urllib.request.Request(url, data=b"{}", method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return orjson.loads(response.read())  # type: ignore[no-any-return]
        except urllib.error.HTTPError as e:
            return orjson.loads(e.read())  # type: ignore[no-any-return]


def up() -> None:
    """`make up`: the pipeline keeps running until Ctrl-C; `make publish` finds it."""
    with LocalPipeline(forward=True) as pipeline:
        env = pipeline.function_env()
        UP_ENV_FILE.parent.mkdir(parents=True, exist_ok=True)
        UP_ENV_FILE.write_bytes(orjson.dumps(env | {"INGEST_URL": pipeline.servers["ingest"].url,
                                                    "DRAIN_URL": pipeline.servers["drain"].url,
                                                    "FORWARD_URL": pipeline.servers["forward"].url}))  # fmt: skip
        assert pipeline.receiver is not None
        print(f"topic:  {pipeline.topic}\ningest: {pipeline.servers['ingest'].url}\n"
              f"drain:  {pipeline.servers['drain'].url}  (curl -X POST it to archive)\n"
              f"forward topic: {pipeline.forward_topic}\n"
              f"forward: {pipeline.servers['forward'].url}  (curl -X POST it to send to the local syslog receiver,\n"
              f"         which writes {pipeline.receiver.received_path})\n"
              f"state:  {pipeline.state_dir}\n", flush=True)  # fmt: skip
        for key, value in sorted(env.items()):
            print(f"export {key}={value}")
        print("\nPublish a log file with `make publish FILE=...`; Ctrl-C stops everything.", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
        finally:
            UP_ENV_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    up()
