"""Micro-batching for `ingest`: concurrent requests on one instance share one store call.

A gen2 instance serves many push requests at once (`--concurrency`). Each request hands its
outcome to the batcher and waits for its own result; a worker thread gathers what arrives
within `max_wait` seconds (up to `max_items`), stores it in one BigQuery append, and wakes
every waiter with that batch's result. A failed store fails every request in the batch, so
Pub/Sub redelivers each of them: nothing is acked that was not stored.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from functions.outcome import Outcome

Store = Callable[[Sequence[Outcome]], object]


class MicroBatcher:
    def __init__(self, store: Store, max_wait: float = 0.02, max_items: int = 500) -> None:
        self._store = store
        self.max_wait = max_wait
        self.max_items = max_items
        self._queue: queue.SimpleQueue[tuple[Outcome, Future[None]]] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, outcome: Outcome, timeout: float | None = None) -> None:
        """Blocks until the outcome's batch is stored; raises what the store raised."""
        done: Future[None] = Future()
        self._queue.put((outcome, done))
        self._ensure_worker()
        done.result(timeout)

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="ingest-batcher", daemon=True)
                self._worker.start()

    def _run(self) -> None:
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
            try:
                self._store([outcome for outcome, _ in batch])
            except BaseException as error:  # every waiter learns of the failure
                for _, done in batch:
                    done.set_exception(error)
            else:
                for _, done in batch:
                    done.set_result(None)
