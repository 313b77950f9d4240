"""The `drain` loop: pull a batch, turn it into outcomes, store it, ack it; repeat until the
subscription is empty or the time budget is spent.

Only stored batches are acked. A batch whose store fails is released for redelivery and
ends the run with that error, so Cloud Scheduler sees the failure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from functions import pipeline
from sinks.errors import RetryableError
from sinks.pubsub import Puller
from sinks.store import Store


@dataclass(slots=True)
class DrainSummary:
    pulled: int = 0
    stored: int = 0  # request rows and archived entries: every message that was not an error
    errors: int = 0
    acked: int = 0
    released: int = 0
    batches: int = 0
    seconds: float = 0.0
    stopped: str = "empty"  # empty | budget | failed
    failure: str | None = None
    by_outcome: dict[str, int] = field(default_factory=lambda: {"http": 0, "other": 0, "error": 0})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def drain(
    puller: Puller,
    store: Store,
    *,
    batch_size: int,
    budget_seconds: float,
    max_message_bytes: int,
    clock: Callable[[], float] = time.monotonic,
) -> DrainSummary:
    summary = DrainSummary()
    start = clock()
    while True:
        if clock() - start >= budget_seconds:
            summary.stopped = "budget"
            break
        batch = puller.pull(batch_size)
        if not batch:
            break
        summary.pulled += len(batch)
        summary.batches += 1
        outcomes = [pipeline.process(p.message, max_message_bytes) for p in batch]
        ack_ids = [p.ack_id for p in batch]
        try:
            store.store(outcomes)
        except RetryableError as e:
            puller.release(ack_ids)
            summary.released += len(ack_ids)
            summary.stopped, summary.failure = "failed", str(e)
            break
        puller.ack(ack_ids)
        summary.acked += len(ack_ids)
        for outcome in outcomes:
            summary.by_outcome[outcome.kind] += 1
        summary.errors = summary.by_outcome["error"]
        summary.stored = summary.acked - summary.errors
    summary.seconds = round(clock() - start, 3)
    return summary
