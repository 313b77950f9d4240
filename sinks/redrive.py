"""Moves dead-lettered messages back to the topic the functions read, so they are processed again.

A message is acked on the dead-letter subscription only after its republish returned a message
id; a publish that fails hands the message back (ack deadline 0) and ends the run, so nothing
is lost and a second run picks up where this one stopped. The republished message keeps its
data and attributes (including Pub/Sub's `CloudPubSubDeadLetterSource*` ones, which say where it
came from); it gets a new message id, so the rows it becomes are de-duplicated on the LogEntry's
identity (insertId, timestamp), as every redelivery is. Ordering keys are not carried: the Log
Router does not set them.

A dry run pulls and counts without acking; it holds what it pulled until the end (so each
message is counted once), then hands it all back.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from typing import Any

from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from functions import timestamps
from sinks.pubsub import MAX_PULL, Pulled, Puller

PUBLISH_TIMEOUT_SECONDS = 60.0
SOURCE_ATTRIBUTE = "CloudPubSubDeadLetterSourceSubscription"


@dataclass(slots=True)
class RedriveSummary:
    pulled: int = 0
    republished: int = 0
    acked: int = 0
    released: int = 0
    bytes: int = 0
    dry_run: bool = False
    oldest_publish_time: str | None = None
    by_source: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    failure: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "by_source": dict(self.by_source)}


def redrive(
    puller: Puller,
    publisher: pubsub_v1.PublisherClient,
    topic: str,
    *,
    max_messages: int | None = None,
    dry_run: bool = False,
    batch_size: int = MAX_PULL,
) -> RedriveSummary:
    """Republishes up to `max_messages` (all when None) from the puller's subscription to `topic`."""
    summary = RedriveSummary(dry_run=dry_run)
    started = time.monotonic()
    held: list[str] = []  # a dry run's ack ids, handed back at the end
    seen: set[str] = set()
    try:
        while max_messages is None or summary.pulled < max_messages:
            wanted = batch_size if max_messages is None else min(batch_size, max_messages - summary.pulled)
            batch = [p for p in puller.pull(wanted) if _first_time(p, seen)]
            if not batch:
                break
            summary.pulled += len(batch)
            for pulled in batch:
                _count(summary, pulled)
            if dry_run:
                held += [p.ack_id for p in batch]
                continue
            if not _republish(puller, publisher, topic, batch, summary):
                break
    finally:
        if held:
            puller.release(held)
            summary.released += len(held)
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _first_time(pulled: Pulled, seen: set[str]) -> bool:
    """False for a message pulled again (its deadline passed while a dry run held it)."""
    key = pulled.message.message_id or pulled.ack_id
    if key in seen:
        return False
    seen.add(key)
    return True


def _count(summary: RedriveSummary, pulled: Pulled) -> None:
    message = pulled.message
    summary.bytes += len(message.data or b"")
    summary.by_source[message.attributes.get(SOURCE_ATTRIBUTE, "(unknown)")] += 1
    published = timestamps.normalize(message.publish_time)
    if published and (summary.oldest_publish_time is None or published < summary.oldest_publish_time):
        summary.oldest_publish_time = published


def _republish(
    puller: Puller, publisher: pubsub_v1.PublisherClient, topic: str, batch: list[Pulled], summary: RedriveSummary
) -> bool:
    """Publishes a batch, acks what was published, hands back the rest; False after a failure."""
    futures: list[Future[str]] = [
        publisher.publish(topic, p.message.data or b"", **dict(p.message.attributes)) for p in batch
    ]
    published, failed = [], []
    for pulled, future in zip(batch, futures, strict=True):
        try:
            future.result(timeout=PUBLISH_TIMEOUT_SECONDS)
        except Exception as e:  # any failure: the message must not be acked
            failed.append(pulled.ack_id)
            summary.failure = summary.failure or f"publish to {topic} failed: {e}"
        else:
            published.append(pulled.ack_id)
    summary.republished += len(published)
    if published:
        puller.ack(published)
        summary.acked += len(published)
    if failed:
        puller.release(failed)
        summary.released += len(failed)
    return not failed
