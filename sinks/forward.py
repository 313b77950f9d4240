"""The `forward` loop: pull a batch, render it as syslog messages, send it over one connection,
ack it once the receiver has read it; repeat until the subscription is empty (or has stayed
empty for `linger_seconds`) or the time budget is spent.

- A batch goes out in event-time order (Pub/Sub delivers in no particular order).
- A failed send hands the whole batch back for redelivery and ends the run with the error,
  so Cloud Scheduler sees the failure and the next run retries. What the receiver read before
  the connection broke is sent again: a reader recognises it by its insertId.
- A message that is no LogEntry is not sent and not acked: it is handed back, so Pub/Sub
  redelivers it and, after the subscription's maximum attempts, keeps it in the dead-letter
  topic for inspection. Nothing is acked that was not delivered.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from functions import syslog
from sinks.errors import RetryableError
from sinks.pubsub import Pulled, Puller
from sinks.syslog import Delivery


class Sender(Protocol):
    def send(self, frames: list[bytes]) -> Delivery: ...


@dataclass(slots=True)
class ForwardSummary:
    pulled: int = 0
    sent: int = 0  # delivered to the receiver and acked
    skipped: int = 0  # not LogEntries: handed back, dead-lettered after the maximum attempts
    acked: int = 0
    released: int = 0  # handed back: failed batches and skipped messages
    batches: int = 0
    bytes: int = 0
    unconfirmed_batches: int = 0  # the receiver kept the connection open: only its TCP acknowledged
    seconds: float = 0.0
    stopped: str = "empty"  # empty | budget | failed
    failure: str | None = None
    skipped_by_reason: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def forward(
    puller: Puller,
    sender: Sender,
    *,
    options: syslog.Options,
    batch_size: int,
    budget_seconds: float,
    linger_seconds: float = 0.0,
    clock: Callable[[], float] = time.monotonic,
) -> ForwardSummary:
    summary = ForwardSummary()
    start = last_message = clock()
    while True:
        if clock() - start >= budget_seconds:
            summary.stopped = "budget"
            break
        batch = puller.pull(batch_size)
        if not batch:
            if clock() - last_message < linger_seconds:
                continue  # keep tailing: the pull itself waits for messages
            break
        last_message = clock()
        summary.pulled += len(batch)
        summary.batches += 1
        if not _forward_batch(batch, puller, sender, options, summary):
            break
    summary.seconds = round(clock() - start, 3)
    return summary


def _forward_batch(
    batch: list[Pulled], puller: Puller, sender: Sender, options: syslog.Options, summary: ForwardSummary
) -> bool:
    """Sends one batch and settles every message of it; False when the send failed."""
    sendable: list[tuple[str, syslog.Rendered]] = []
    skipped: list[str] = []
    for pulled in batch:
        rendered = syslog.render_data(pulled.message.data, options, pulled.message.publish_time)
        if rendered.message is None:
            skipped.append(pulled.ack_id)
            reason = rendered.skipped or "unknown"
            summary.skipped_by_reason[reason] = summary.skipped_by_reason.get(reason, 0) + 1
        else:
            sendable.append((pulled.ack_id, rendered))
    sendable.sort(key=lambda item: item[1].sort_key)
    if sendable:
        frames = [syslog.frame(rendered.message, options.framing) for _, rendered in sendable if rendered.message]
        try:
            delivery = sender.send(frames)
        except RetryableError as e:
            puller.release([p.ack_id for p in batch])
            summary.released += len(batch)
            summary.stopped, summary.failure = "failed", str(e)
            return False
        puller.ack([ack_id for ack_id, _ in sendable])
        summary.sent += delivery.messages
        summary.acked += len(sendable)
        summary.bytes += delivery.bytes
        summary.unconfirmed_batches += not delivery.confirmed
    if skipped:
        puller.release(skipped)
        summary.skipped += len(skipped)
        summary.released += len(skipped)
    return True
