"""Micro-batching for `ingest`: concurrent requests on one instance share one store call.

A gen2 instance serves many push requests at once (`--concurrency`). Each request hands its
outcome to the batcher and waits for its own result; a gatherer thread collects what arrives
within `max_wait` seconds (up to `max_items`) and hands that batch to a writer thread of its
own, which stores it in one BigQuery append and wakes every waiter with the batch's result.
A failed store fails every request in the batch, so Pub/Sub redelivers each of them: nothing
is acked that was not stored.

Budgets nest: a batch never waits for another batch's write (each has its own writer, so a
slow or failing BigQuery holds only the requests of that batch), and a request never waits
past its own deadline. A request whose deadline passes while it is still queued is withdrawn
(never stored) and fails at once; one whose batch is being written when its deadline passes
fails too, and Pub/Sub redelivers it even if the write then lands (the dedup view absorbs it).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from functions.outcome import Outcome
from sinks.errors import RetryableError

Store = Callable[[Sequence[Outcome]], object]


class NotStoredInTimeError(RetryableError):
    """The request's deadline passed before its batch was stored: fail it so Pub/Sub redelivers."""


class MicroBatcher:
    def __init__(self, store: Store, max_wait: float = 0.02, max_items: int = 500) -> None:
        self._store = store
        self.max_wait = max_wait
        self.max_items = max_items
        self._queue: queue.SimpleQueue[tuple[Outcome, Future[None]]] = queue.SimpleQueue()
        self._gatherer: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, outcome: Outcome, deadline: float) -> None:
        """Blocks until the outcome's batch is stored; raises what the store raised, or
        `NotStoredInTimeError` once `deadline` (a `time.monotonic()` value) has passed."""
        done: Future[None] = Future()
        self._queue.put((outcome, done))
        self._ensure_gatherer()
        try:
            done.result(max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            if done.cancel():
                raise NotStoredInTimeError("the request's deadline passed while it waited for a batch") from None
            raise NotStoredInTimeError("the request's deadline passed while its batch was being stored") from None

    def _ensure_gatherer(self) -> None:
        with self._lock:
            if self._gatherer is None or not self._gatherer.is_alive():
                self._gatherer = threading.Thread(target=self._gather, name="ingest-batcher", daemon=True)
                self._gatherer.start()

    def _gather(self) -> None:
        while True:
            batch = [self._queue.get()]
            deadline = time.monotonic() + self.max_wait
            while len(batch) < self.max_items:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self._queue.get(timeout=remaining))
                except queue.Empty:
                    break
            threading.Thread(target=self._write, args=(batch,), name="ingest-writer", daemon=True).start()

    def _write(self, batch: list[tuple[Outcome, Future[None]]]) -> None:
        live = [(outcome, done) for outcome, done in batch if done.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            self._store([outcome for outcome, _ in live])
        except BaseException as error:  # every waiter learns of the failure
            for _, done in live:
                done.set_exception(error)
        else:
            for _, done in live:
                done.set_result(None)
