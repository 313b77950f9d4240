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
- Whatever stage fails (pull, send, ack, or a bug), the run ends with its JSON summary, as
  `drain`'s does (sinks/drain.py `answer`): the stage, the error, what was acked before it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from functions import pipeline, syslog
from sinks.drain import PullSource, answer
from sinks.errors import RetryableError

if TYPE_CHECKING:  # sinks.pubsub imports the Pub/Sub client: heavy, and not needed to type
    from sinks.pubsub import Pulled
    from sinks.syslog import Delivery

LINGER_POLL_SECONDS = 1.0  # between empty pulls while lingering (pulls answer at once when empty)


class Sender(Protocol):
    def send(self, frames: list[bytes]) -> Delivery: ...


@dataclass(frozen=True, slots=True)
class ForwardJob:
    """Where `forward` pulls, where it sends, and its limits."""

    source: PullSource
    sender: Sender
    options: syslog.Options
    batch_size: int
    budget_seconds: float
    linger_seconds: float = 0.0


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
    stage: str | None = None  # where it failed: config | pull | send | ack | internal
    failure: str | None = None
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    not_acked: list[str] = field(default_factory=list)  # message ids the failure left unacked

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def fail(self, stage: str, error: BaseException) -> None:
        self.stopped, self.stage = "failed", stage
        self.failure = pipeline.describe(error) if stage == "internal" else str(error)


def run(job: Callable[[], ForwardJob], clock: Callable[[], float] = time.monotonic) -> tuple[int, dict[str, Any]]:
    """The `forward` entry point: (HTTP status, JSON summary), and one summary line in the log."""
    return answer("forward", lambda log: forward(job(), clock), ForwardSummary, clock)


def forward(
    job: ForwardJob, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
) -> ForwardSummary:
    summary = ForwardSummary()
    start = last_message = clock()
    held: list[Pulled] = []  # pulled, not yet acked or released
    try:
        while True:
            if clock() - start >= job.budget_seconds:
                summary.stopped = "budget"
                break
            try:
                held = list(job.source.pull(job.batch_size))
            except RetryableError as e:
                summary.fail("pull", e)
                break
            if not held:
                if clock() - last_message < job.linger_seconds:
                    sleep(LINGER_POLL_SECONDS)  # keep tailing the subscription
                    continue
                break
            last_message = clock()
            summary.pulled += len(held)
            summary.batches += 1
            delivered = _forward_batch(held, job, summary)
            held = []
            if not delivered:
                break
    except Exception as e:  # a bug: fail the run, hand back what it holds, never ack it
        if held:
            _release(job.source, held, summary)
        summary.fail("internal", e)
    summary.seconds = round(clock() - start, 3)
    return summary


def _forward_batch(batch: Sequence[Pulled], job: ForwardJob, summary: ForwardSummary) -> bool:
    """Sends one batch and settles every message of it; False when a stage failed."""
    sendable: list[tuple[Pulled, syslog.Rendered]] = []
    skipped: list[Pulled] = []
    for pulled in batch:
        rendered = syslog.render_data(pulled.message.data, job.options, pulled.message.publish_time)
        if rendered.message is None:
            skipped.append(pulled)
            reason = rendered.skipped or "unknown"
            summary.skipped_by_reason[reason] = summary.skipped_by_reason.get(reason, 0) + 1
        else:
            sendable.append((pulled, rendered))
    sendable.sort(key=lambda item: item[1].sort_key)
    if sendable:
        frames = [syslog.frame(rendered.message, job.options.framing) for _, rendered in sendable if rendered.message]
        try:
            delivery = job.sender.send(frames)
        except RetryableError as e:
            _release(job.source, batch, summary)
            summary.fail("send", e)
            return False
        try:
            job.source.ack([p.ack_id for p, _ in sendable])
        except RetryableError as e:  # sent, not acked: redelivered and sent again (same insertIds)
            summary.not_acked = [p.message.message_id or "" for p, _ in sendable]
            summary.fail("ack", e)
            return False
        summary.sent += delivery.messages
        summary.acked += len(sendable)
        summary.bytes += delivery.bytes
        summary.unconfirmed_batches += not delivery.confirmed
    if skipped:
        _release(job.source, skipped, summary)
        summary.skipped += len(skipped)
    return True


def _release(source: PullSource, held: Sequence[Pulled], summary: ForwardSummary) -> None:
    try:
        source.release([p.ack_id for p in held])
    except Exception:  # they come back at their ack deadline all the same
        return
    summary.released += len(held)
