"""The one shape every delivery is normalised into before decoding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(slots=True)  # not frozen: a frozen init costs a setattr call per field, on every message
class Message:
    """A Pub/Sub message as delivered (never changed once built: copy with `dataclasses.replace`).

    `data` holds the bytes as they arrived: base64 text when `data_is_base64` (push and
    CloudEvent deliveries), raw bytes for pulled messages. Decoding is a pipeline step
    so that a bad payload still becomes an error row carrying the message's identity.
    `data` is None when the message had no data field at all.
    """

    data: bytes | None
    message_id: str | None = None
    publish_time: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)
    subscription: str | None = None
    data_is_base64: bool = False
    ordering_key: str | None = None
