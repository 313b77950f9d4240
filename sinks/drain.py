"""The pull loop behind `drain` (and any other pull-based entry point): pull a batch, turn it into
outcomes, deliver it, ack it; repeat until the subscription is empty or the time budget is spent.

Only delivered batches are acked. A batch whose delivery fails is released for redelivery and
ends the run. Whatever stage fails (configuration, pull, delivery, ack, or a bug), the run ends
with its JSON summary, which counts what was acked before the failure; the entry point answers
500 with it, so Cloud Scheduler sees the failure, and logs it as one structured line.

A pull-based entry point is `run(component, job)`: `job()` builds its `PullJob` (where to pull,
how to deliver) from the runtime, or raises ConfigError.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from functions import pipeline
from functions.config import ConfigError
from functions.outcome import INTERNAL_ERROR, Outcome
from sinks import logs
from sinks.errors import RetryableError

if TYPE_CHECKING:  # sinks.pubsub imports the Pub/Sub client: heavy, and not needed to type
    from sinks.pubsub import Pulled

Deliver = Callable[[Sequence[Outcome]], object]  # raises RetryableError when the batch was not stored


class PullSource(Protocol):
    """What the loop needs of a subscription (sinks.pubsub.Puller; a fake in tests)."""

    def pull(self, max_messages: int) -> Sequence[Pulled]: ...

    def ack(self, ack_ids: Sequence[str]) -> None: ...

    def release(self, ack_ids: Sequence[str]) -> None: ...


@dataclass(frozen=True, slots=True)
class PullJob:
    """Where a pull-based entry point pulls, how it delivers a batch, and its limits."""

    source: PullSource
    deliver: Deliver
    batch_size: int
    budget_seconds: float
    max_message_bytes: int


@dataclass(slots=True)
class DrainSummary:
    pulled: int = 0
    stored: int = 0  # request rows and archived entries: every stored message that was not an error
    errors: int = 0  # error rows stored
    acked: int = 0
    released: int = 0
    batches: int = 0
    seconds: float = 0.0
    stopped: str = "empty"  # empty | budget | failed
    stage: str | None = None  # where it failed: config | pull | store | ack | internal
    failure: str | None = None
    by_outcome: dict[str, int] = field(default_factory=lambda: {"http": 0, "other": 0, "error": 0})
    by_reason: dict[str, int] = field(default_factory=dict)
    not_acked: list[str] = field(default_factory=list)  # message ids of the batch the failure left unacked

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def fail(self, stage: str, error: BaseException) -> None:
        self.stopped, self.stage = "failed", stage
        self.failure = pipeline.describe(error) if stage == "internal" else str(error)


def drain(job: PullJob, log: logging.Logger, clock: Callable[[], float] = time.monotonic) -> DrainSummary:
    summary = DrainSummary()
    start = clock()
    held: list[Pulled] = []  # pulled, not yet acked or released
    try:
        while True:
            if clock() - start >= job.budget_seconds:
                summary.stopped = "budget"
                break
            held, exhausted, pull_error = _fill(job.source, job.batch_size)
            if not held:
                if pull_error is not None:
                    summary.fail("pull", pull_error)
                break
            summary.pulled += len(held)
            summary.batches += 1
            outcomes = [pipeline.process(p.message, job.max_message_bytes) for p in held]
            try:
                job.deliver(outcomes)
            except RetryableError as e:
                _release(job.source, held, summary)
                summary.fail("store", e)
                break
            try:
                job.source.ack([p.ack_id for p in held])
            except RetryableError as e:
                summary.not_acked = [p.message.message_id or "" for p in held]
                summary.fail("ack", e)  # stored, not acked: redelivered, and found present (412) or deduplicated
                _count(summary, outcomes, acked=False)
                held = []
                break
            held = []
            _count(summary, outcomes, acked=True)
            _log_messages(log, outcomes)
            if pull_error is not None:
                summary.fail("pull", pull_error)
                break
            if exhausted:
                break
    except Exception as e:  # a bug: fail the run, hand back what it holds, never ack it
        if held:
            _release(job.source, held, summary)
        summary.fail("internal", e)
    summary.seconds = round(clock() - start, 3)
    return summary


def _fill(source: PullSource, batch_size: int) -> tuple[list[Pulled], bool, RetryableError | None]:
    """One batch: pulls until it holds `batch_size` messages, the subscription has none to give
    (exhausted), or a pull fails (the error, after what was held). Pub/Sub answers a pull with
    what it has at hand, often a few hundred messages, and every stored batch costs one append
    per table and one archive object per (log, hour): fewer, fuller batches cost less."""
    held: list[Pulled] = []
    while len(held) < batch_size:
        try:
            pulled = list(source.pull(batch_size - len(held)))
        except RetryableError as e:
            return held, False, e
        if not pulled:
            return held, True, None
        held += pulled
    return held, False, None


def _release(source: PullSource, held: Sequence[Pulled], summary: DrainSummary) -> None:
    summary.not_acked = [p.message.message_id or "" for p in held]
    try:
        source.release([p.ack_id for p in held])
    except Exception:  # they come back at their ack deadline all the same
        return
    summary.released += len(held)


def _count(summary: DrainSummary, outcomes: Sequence[Outcome], *, acked: bool) -> None:
    for outcome in outcomes:
        summary.by_outcome[outcome.kind] += 1
        if outcome.reason:
            summary.by_reason[outcome.reason] = summary.by_reason.get(outcome.reason, 0) + 1
    summary.errors = summary.by_outcome["error"]
    summary.stored = summary.by_outcome["http"] + summary.by_outcome["other"]
    if acked:
        summary.acked += len(outcomes)


def _log_messages(log: logging.Logger, outcomes: Sequence[Outcome]) -> None:
    """Per message: DEBUG for every one (off by default), WARNING for the internal errors."""
    debug = log.isEnabledFor(logging.DEBUG)
    for outcome in outcomes:
        if outcome.reason == INTERNAL_ERROR:
            logs.log(log, logging.WARNING, f"internal error, stored as an error row: {outcome.detail}",
                     message_id=outcome.message.message_id, outcome=outcome.kind, reason=outcome.reason)  # fmt: skip
        elif debug:
            logs.log(log, logging.DEBUG, f"{outcome.kind} {outcome.reason or ''}".strip(),
                     message_id=outcome.message.message_id, outcome=outcome.kind, reason=outcome.reason)  # fmt: skip


class Summary(Protocol):
    """What `answer` needs of a pull loop's summary (DrainSummary; sinks/forward.py's)."""

    pulled: int
    acked: int
    seconds: float
    stopped: str
    stage: str | None
    failure: str | None

    def to_json(self) -> dict[str, Any]: ...

    def fail(self, stage: str, error: BaseException) -> None: ...


S = TypeVar("S", bound=Summary)


def run(
    component: str, job: Callable[[], PullJob], clock: Callable[[], float] = time.monotonic
) -> tuple[int, dict[str, Any]]:
    """The `drain` entry point (and any pull-based one that stores outcomes)."""
    return answer(component, lambda log: drain(job(), log, clock), DrainSummary, clock)


def answer(
    component: str, loop: Callable[[logging.Logger], S], empty: Callable[[], S], clock: Callable[[], float]
) -> tuple[int, dict[str, Any]]:
    """A pull-based entry point's answer: (HTTP status, JSON summary), and one summary line in the
    log, INFO, or ERROR naming the stage, the dependency's error and the message ids left unacked.
    `loop` builds its job (raising ConfigError when it cannot) and runs it; `empty` is the summary
    of a run that could not start."""
    log = logging.getLogger(f"{logs.LOGGER}.{component}")
    started = clock()
    try:
        summary = loop(log)
    except ConfigError as e:
        summary = empty()
        summary.fail("config", e)
        summary.seconds = round(clock() - started, 3)
    except Exception as e:  # building the job failed for another reason: a bug
        summary = empty()
        summary.fail("internal", e)
        summary.seconds = round(clock() - started, 3)
    body = summary.to_json()
    if summary.failure:
        text = f"{component} failed at {summary.stage} after {summary.acked} acked: {summary.failure}"
        logs.log(log, logging.ERROR, text, **body)
        return 500, body
    text = f"{component} {summary.stopped}: {summary.pulled} pulled, {summary.acked} acked in {summary.seconds:.3f}s"
    logs.log(log, logging.INFO, text, **body)
    return 200, body
