"""MicroBatcher (sinks/batcher.py): pure concurrency, so the store here is a plain function
that records its calls; the real store is exercised by tests/e2e."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from functions.message import Message
from functions.outcome import Outcome
from sinks.batcher import MicroBatcher, NotStoredInTimeError
from sinks.errors import RetryableError


def _outcome(n: int) -> Outcome:
    return Outcome("other", Message(data=b"{}", message_id=str(n)), b"{}", log_id="x", event_time="t")


def _submit_concurrently(batcher: MicroBatcher, count: int) -> list[BaseException | None]:
    results: list[BaseException | None] = [None] * count
    start = threading.Barrier(count)

    def one(n: int) -> None:
        start.wait()
        try:
            batcher.submit(_outcome(n), deadline=time.monotonic() + 10)
        except BaseException as e:
            results[n] = e

    threads = [threading.Thread(target=one, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    return results


def test_concurrent_submissions_share_store_calls_and_each_is_stored_once() -> None:
    calls: list[list[str | None]] = []

    def store(outcomes: Sequence[Outcome]) -> None:
        calls.append([o.message.message_id for o in outcomes])

    results = _submit_concurrently(MicroBatcher(store, max_wait=0.2), 40)
    assert results == [None] * 40
    stored = sorted(int(m or 0) for call in calls for m in call)
    assert stored == list(range(40))
    assert len(calls) < 40  # batched: fewer store calls than requests


def test_a_failed_store_fails_every_waiter_in_its_batch() -> None:
    def store(outcomes: Sequence[Outcome]) -> None:
        raise RetryableError("BigQuery unavailable")

    results = _submit_concurrently(MicroBatcher(store, max_wait=0.2), 8)
    assert all(isinstance(r, RetryableError) for r in results)


def test_batches_are_capped() -> None:
    sizes: list[int] = []
    results = _submit_concurrently(MicroBatcher(lambda o: sizes.append(len(o)), max_wait=0.5, max_items=5), 12)
    assert results == [None] * 12
    assert max(sizes) <= 5 and sum(sizes) == 12


def test_a_lone_request_waits_at_most_max_wait() -> None:
    started = time.monotonic()
    MicroBatcher(lambda o: None, max_wait=0.05).submit(_outcome(1), deadline=time.monotonic() + 5)
    assert time.monotonic() - started < 1.0


def test_the_worker_survives_a_failed_batch() -> None:
    failures = iter([RetryableError("first batch fails")])

    def store(outcomes: Sequence[Outcome]) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure

    batcher = MicroBatcher(store, max_wait=0.01)
    with pytest.raises(RetryableError):
        batcher.submit(_outcome(1), deadline=time.monotonic() + 5)
    batcher.submit(_outcome(2), deadline=time.monotonic() + 5)


def test_a_request_behind_a_slow_failing_batch_does_not_wait_for_it() -> None:
    """BigQuery failing slowly for one batch (here: 1.5 s, then an error) must not hold the
    requests that arrive meanwhile: their batch is stored by a writer of its own."""
    first_call = threading.Event()
    seen: list[list[str | None]] = []

    def store(outcomes: Sequence[Outcome]) -> None:
        seen.append([o.message.message_id for o in outcomes])
        if not first_call.is_set():
            first_call.set()
            time.sleep(1.5)
            raise RetryableError("BigQuery unavailable (first batch)")

    batcher = MicroBatcher(store, max_wait=0.01)
    failed: list[BaseException] = []

    def first() -> None:
        try:
            batcher.submit(_outcome(1), deadline=time.monotonic() + 10)
        except RetryableError as e:
            failed.append(e)

    thread = threading.Thread(target=first)
    thread.start()
    assert first_call.wait(5)
    started = time.monotonic()
    batcher.submit(_outcome(2), deadline=time.monotonic() + 10)
    waited = time.monotonic() - started
    thread.join(5)
    assert waited < 1.0, f"the second request waited {waited:.2f} s behind the failing batch"
    assert len(failed) == 1 and seen == [["1"], ["2"]]


def test_a_request_whose_deadline_passes_while_queued_fails_fast_and_is_never_stored() -> None:
    stored: list[str | None] = []
    batcher = MicroBatcher(lambda outcomes: stored.extend(o.message.message_id for o in outcomes), max_wait=1.0)
    started = time.monotonic()
    with pytest.raises(NotStoredInTimeError):
        batcher.submit(_outcome(1), deadline=time.monotonic() + 0.2)
    assert time.monotonic() - started < 0.8
    time.sleep(1.2)  # the gathered batch has been handed on by now
    batcher.submit(_outcome(2), deadline=time.monotonic() + 5)
    assert stored == ["2"], "a request that answered 503 must not be stored behind its back"


def test_a_deadline_is_a_retryable_error() -> None:
    """ingest answers 503 for it, so Pub/Sub redelivers."""
    assert issubclass(NotStoredInTimeError, RetryableError)
