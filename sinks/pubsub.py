"""Pulls batches from a pull subscription and acks exactly what was stored.

Uses synchronous unary Pull (not streaming pull): `drain` runs for a bounded time, wants whole
batches, and must never hold messages it has not stored.

Each call is bounded (config.PULL_TIMEOUT_SECONDS, config.ACK_TIMEOUT_SECONDS, retries of
transient errors included) so that a run's budgets nest. Pulls ask the server to answer at once
(`return_immediately`): an empty subscription is then an empty response in milliseconds, and a
pull that times out is a failure, never mistaken for "empty". Without it, Pub/Sub holds a pull on
an empty subscription until the client's deadline (DeadlineExceeded on Google's service, an empty
answer a second before it on the emulator): every scheduled run would be billed for that wait,
and a pull that really timed out would look like an empty subscription. The API discourages the
flag because the server may answer empty while messages are still arriving; for a scheduled
drainer that only ends a run early, and the next run takes the rest.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from google.api_core import exceptions as api_exceptions
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from functions import envelope
from functions.config import ACK_TIMEOUT_SECONDS, PULL_TIMEOUT_SECONDS
from functions.message import Message
from sinks import retry

# Pub/Sub returns at most 1,000 messages per pull, and takes as many ack ids per call.
MAX_PULL = 1000

log = logging.getLogger(__name__)
warnings.filterwarnings("ignore", message="The return_immediately flag is deprecated", category=DeprecationWarning)


@dataclass(frozen=True, slots=True)
class Pulled:
    ack_id: str
    message: Message


def received(response: pubsub_v1.types.PullResponse, subscription: str) -> list[Pulled]:
    """A pull's messages, read through the underlying protobuf: the proto-plus wrapper converts
    every field on every read, which cost more than parsing the message (bench/drain_cpu.py)."""
    raw = pubsub_v1.types.PullResponse.pb(response)
    return [Pulled(r.ack_id, envelope.from_pulled(r.message, subscription)) for r in raw.received_messages]


class Puller:
    def __init__(self, subscription: str) -> None:
        self.subscription = subscription
        self._lock = threading.Lock()
        self._client: pubsub_v1.SubscriberClient | None = None

    def _subscriber(self) -> pubsub_v1.SubscriberClient:
        with self._lock:
            if self._client is None:
                self._client = pubsub_v1.SubscriberClient()
            return self._client

    def pull(self, max_messages: int) -> list[Pulled]:
        """Up to `max_messages` messages; [] when the subscription has none to give now.
        Raises `RetryableError` when Pub/Sub did not answer within PULL_TIMEOUT_SECONDS."""
        budget = retry.Budget(PULL_TIMEOUT_SECONDS)
        request = {"subscription": self.subscription, "max_messages": min(max_messages, MAX_PULL),
                   "return_immediately": True}  # fmt: skip
        response = retry.call(partial(self._pull, request), budget, f"pull from {self.subscription}")
        return received(response, self.subscription)

    def _pull(self, request: dict[str, object], timeout: float) -> pubsub_v1.types.PullResponse:
        # retry=None: the client's own retry runs for 60 s; sinks.retry owns the budget.
        return self._subscriber().pull(request=request, retry=None, timeout=timeout)

    def ack(self, ack_ids: Sequence[str]) -> None:
        """Raises `RetryableError` when the acks were not confirmed within ACK_TIMEOUT_SECONDS."""
        budget = retry.Budget(ACK_TIMEOUT_SECONDS)
        for start in range(0, len(ack_ids), MAX_PULL):
            chunk = list(ack_ids[start : start + MAX_PULL])
            retry.call(partial(self._ack, chunk), budget, f"acknowledge on {self.subscription}")

    def _ack(self, ack_ids: list[str], timeout: float) -> None:
        self._subscriber().acknowledge(subscription=self.subscription, ack_ids=ack_ids, retry=None, timeout=timeout)

    def release(self, ack_ids: Sequence[str]) -> None:
        """Hands messages back for redelivery now rather than after the ack deadline."""
        for start in range(0, len(ack_ids), MAX_PULL):
            try:
                self._subscriber().modify_ack_deadline(
                    subscription=self.subscription,
                    ack_ids=list(ack_ids[start : start + MAX_PULL]),
                    ack_deadline_seconds=0,
                    retry=None,
                    timeout=ACK_TIMEOUT_SECONDS,
                )
            except api_exceptions.GoogleAPICallError as error:
                log.warning("releasing %d messages failed (they return at their ack deadline): %s", len(ack_ids), error)
                return
