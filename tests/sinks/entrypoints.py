"""In-process harness for the entry points: main.py served by functions-framework's own Flask app
(create_app), with a Runtime of the test's making.

The store here is a fake of this project's own Store interface, not of a Google service: the
subject is the entry point (what it reads, what it answers, what it logs). Failures it injects
(a write that fails or hangs, a bug) are what the real Store raises when BigQuery is down (shown
against the emulators in tests/sinks/test_bigquery.py and tests/e2e); the emulator-marked tests
in test_ingest.py and test_drain.py run the same entry points with the real Store.
"""

from __future__ import annotations

import base64
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask
import orjson
import pytest
from functions_framework import create_app

from functions.config import Settings
from functions.message import Message
from functions.outcome import Outcome
from sinks.drain import PullSource
from sinks.pubsub import Pulled
from sinks.runtime import Runtime, StoreLike

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class RecordingStore:
    """Keeps each batch it is given; `fail` makes every call raise it, after `delay` seconds."""

    fail: BaseException | None = None
    delay: float = 0.0
    batches: list[list[Outcome]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def store(self, outcomes: Sequence[Outcome]) -> None:
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        with self.lock:
            self.batches.append(list(outcomes))

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for batch in self.batches for o in batch]


def runtime_with(
    store: StoreLike, env: dict[str, str] | None = None, puller: PullSource | None = None, **kwargs: Any
) -> Runtime:
    """A Runtime whose entry points use `store` (and `puller`), configured by `env`."""
    settings = Settings.from_env({
        "GOOGLE_CLOUD_PROJECT": "blog-prod-123", "INGEST_BATCH_WAIT_MS": "0",
        "DRAIN_SUBSCRIPTION": "projects/blog-prod-123/subscriptions/logexport-drain", **(env or {}),
    })  # fmt: skip
    if puller is not None:
        kwargs["puller_factory"] = lambda subscription: puller
    return Runtime(settings, store_factory=lambda s, bigquery, archive: store, **kwargs)


def app_for(target: str, runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> flask.Flask:
    """main.py's `target` as functions-framework serves it, using `runtime`."""
    monkeypatch.setenv("FUNCTION_TARGET", target)  # create_app sets these: restored after the test
    monkeypatch.setenv("FUNCTION_SIGNATURE_TYPE", "http")
    app: flask.Flask = create_app(target, str(ROOT / "main.py"))  # type: ignore[no-untyped-call]
    monkeypatch.setattr(sys.modules["main"], "runtime", lambda: runtime)
    return app


def push_body(data: bytes | str | None, message_id: str = "2070443601311540", **message: Any) -> bytes:
    """A push request body (cloud.google.com/pubsub/docs/push#receive_push); `data` bytes are
    base64-encoded, a str is sent as it is."""
    fields: dict[str, Any] = {"messageId": message_id, "publishTime": "2026-11-20T09:15:03.123Z", **message}
    if data is not None:
        fields["data"] = base64.b64encode(data).decode() if isinstance(data, bytes) else data
    return orjson.dumps({"message": fields, "subscription": "projects/blog-prod-123/subscriptions/logexport-ingest"})


def json_lines(text: str) -> list[dict[str, Any]]:
    """The structured log lines among captured stdout."""
    return [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]


@dataclass
class Clock:
    """A monotonic clock the test moves."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


class FakePuller:
    """The real Puller's interface (sinks.drain.PullSource) over a list of messages, with the
    faults no emulator produces on demand: a pull or an ack failing once, at a given call.

    `pull` hands out messages that are neither acked nor held, as Pub/Sub does within the ack
    deadline; `release` makes them available again."""

    def __init__(
        self,
        payloads: Sequence[bytes],
        pull_faults: dict[int, BaseException] | None = None,
        ack_faults: dict[int, BaseException] | None = None,
    ) -> None:
        self.messages = {
            f"ack-{n}": Pulled(f"ack-{n}", Message(data=p, message_id=f"m-{n}", publish_time="2026-11-20T09:15:03Z",
                                                    subscription="projects/blog-prod-123/subscriptions/logexport-drain"))
            for n, p in enumerate(payloads)
        }  # fmt: skip
        self.pull_faults = pull_faults or {}
        self.ack_faults = ack_faults or {}
        self.pulls = self.acks = 0
        self.held: set[str] = set()
        self.acked: list[str] = []
        self.released: list[str] = []

    def pull(self, max_messages: int) -> list[Pulled]:
        self.pulls += 1
        if self.pulls in self.pull_faults:
            raise self.pull_faults[self.pulls]
        free = [p for a, p in self.messages.items() if a not in self.held and a not in self.acked]
        batch = free[:max_messages]
        self.held.update(p.ack_id for p in batch)
        return batch

    def ack(self, ack_ids: Sequence[str]) -> None:
        self.acks += 1
        if self.acks in self.ack_faults:
            raise self.ack_faults[self.acks]
        self.acked += ack_ids
        self.held.difference_update(ack_ids)

    def release(self, ack_ids: Sequence[str]) -> None:
        self.released += ack_ids
        self.held.difference_update(ack_ids)


@dataclass
class ScriptedPuller:
    """A subscription handing out the batches it was given, in order, and recording every pull,
    ack and release in order (`events`): for the `forward` loop, whose tests are about batch
    boundaries and ordering. Released messages are not handed out again (FakePuller does that;
    the emulator tests cover real redelivery)."""

    batches: list[list[Pulled]]
    events: list[tuple[str, list[str]]] = field(default_factory=list)

    def pull(self, max_messages: int) -> list[Pulled]:
        batch = self.batches.pop(0) if self.batches else []
        assert len(batch) <= max_messages
        self.events.append(("pull", [p.ack_id for p in batch]))
        return batch

    def ack(self, ack_ids: Sequence[str]) -> None:
        self.events.append(("ack", list(ack_ids)))

    def release(self, ack_ids: Sequence[str]) -> None:
        self.events.append(("release", list(ack_ids)))

    def settled(self, kind: str) -> list[str]:
        return [ack_id for event, ids in self.events if event == kind for ack_id in ids]
