"""A fake Pub/Sub subscription for the `forward` loop and entry point: a fault-free, in-memory
stand-in that records what was acked and handed back, and in which order. Redelivery itself is
tested against the Pub/Sub emulator (tests/e2e)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sinks.pubsub import Pulled, Puller


@dataclass
class FakePuller:
    """A subscription in memory: hands out batches, records acks and releases in order.
    Released messages are not redelivered here (the emulator tests cover redelivery)."""

    batches: list[list[Pulled]]
    events: list[tuple[str, list[str]]] = field(default_factory=list)

    def pull(self, max_messages: int) -> list[Pulled]:
        batch = self.batches.pop(0) if self.batches else []
        assert len(batch) <= max_messages
        self.events.append(("pull", [p.ack_id for p in batch]))
        return batch

    def ack(self, ack_ids: list[str]) -> None:
        self.events.append(("ack", list(ack_ids)))

    def release(self, ack_ids: list[str]) -> None:
        self.events.append(("release", list(ack_ids)))

    def settled(self, kind: str) -> list[str]:
        return [ack_id for event, ids in self.events if event == kind for ack_id in ids]


def as_puller(fake: FakePuller) -> Puller:
    return fake  # type: ignore[return-value]  # the same three methods
