"""Pulls batches from the drain subscription and acks exactly what was stored.

Uses synchronous unary Pull (not streaming pull): `drain` runs for a bounded time, wants
whole batches, and must never hold messages it has not stored.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from google.api_core import exceptions as api_exceptions
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from functions import envelope
from functions.message import Message
from sinks.errors import RetryableError

# Pub/Sub returns at most 1,000 messages per pull; a pull that finds nothing returns empty.
MAX_PULL = 1000
PULL_TIMEOUT_SECONDS = 10.0
_TRANSIENT = (
    api_exceptions.ServiceUnavailable,
    api_exceptions.DeadlineExceeded,
    api_exceptions.InternalServerError,
    api_exceptions.TooManyRequests,
    api_exceptions.Aborted,
)


@dataclass(frozen=True, slots=True)
class Pulled:
    ack_id: str
    message: Message


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
        try:
            response = self._subscriber().pull(
                subscription=self.subscription, max_messages=min(max_messages, MAX_PULL), timeout=PULL_TIMEOUT_SECONDS
            )
        except api_exceptions.DeadlineExceeded:
            return []  # nothing arrived within the timeout
        except _TRANSIENT as e:
            raise RetryableError(f"pull from {self.subscription} failed: {e}") from e
        return [
            Pulled(r.ack_id, envelope.from_pulled(r.message, self.subscription)) for r in response.received_messages
        ]

    def ack(self, ack_ids: list[str]) -> None:
        for start in range(0, len(ack_ids), MAX_PULL):
            self._subscriber().acknowledge(subscription=self.subscription, ack_ids=ack_ids[start : start + MAX_PULL])

    def release(self, ack_ids: list[str]) -> None:
        """Hands messages back for redelivery now rather than after the ack deadline."""
        for start in range(0, len(ack_ids), MAX_PULL):
            try:
                self._subscriber().modify_ack_deadline(
                    subscription=self.subscription, ack_ids=ack_ids[start : start + MAX_PULL], ack_deadline_seconds=0
                )
            except api_exceptions.GoogleAPICallError:
                return  # they come back anyway when their deadline passes
