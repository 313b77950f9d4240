"""Normalises the three ways a Pub/Sub message arrives into one `Message`.

* a push request body: `{"message": {"data": b64, "attributes": {...}, "messageId": ...,
  "publishTime": ...}, "subscription": "projects/p/subscriptions/s"}`
  (cloud.google.com/pubsub/docs/push#receive_push);
* the CloudEvent of an Eventarc Pub/Sub trigger, whose `data` is that same body
  (cloud.google.com/eventarc/docs/cloudevents, type google.cloud.pubsub.topic.v1.messagePublished);
* a pulled `PubsubMessage` (google-cloud-pubsub), whose data is already bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from functions import timestamps
from functions.message import Message


class EnvelopeError(ValueError):
    """The delivery itself is malformed: there is no Pub/Sub message to read.

    `identity` holds what could still be read of the message (id, publish time, subscription;
    no data), so that its `bad_envelope` row can be found by message id.
    """

    def __init__(self, text: str, identity: Message | None = None) -> None:
        super().__init__(text)
        self.identity = identity


def from_push_body(body: bytes | Mapping[str, Any]) -> Message:
    """A push body (raw bytes or already parsed), or a Pub/Sub CloudEvent's `data`, which
    has the same shape (functions-framework converts push bodies into such events)."""
    if isinstance(body, (bytes, bytearray)):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError as e:
            raise EnvelopeError(f"push body is not JSON: {e}") from None
    if not isinstance(body, Mapping):
        raise EnvelopeError(f"push body is a JSON {type(body).__name__}, not an object")
    message = body.get("message")
    if not isinstance(message, Mapping):
        raise EnvelopeError("push body has no 'message' object")
    subscription = body.get("subscription")
    identity = Message(
        data=None,
        message_id=_text(message.get("messageId") or message.get("message_id")),
        publish_time=_text(message.get("publishTime") or message.get("publish_time")),
        subscription=subscription if isinstance(subscription, str) else None,
        ordering_key=_text(message.get("orderingKey")),
    )
    data = message.get("data")
    if data is not None and not isinstance(data, str):
        raise EnvelopeError(f"message.data is a JSON {type(data).__name__}, not a base64 string", identity)
    attributes = _attributes(message.get("attributes"))
    if attributes is None:
        raise EnvelopeError("message.attributes is not an object of strings", identity)
    return Message(
        # Text that is not ASCII is no base64 either: kept as UTF-8 for the decoder to refuse.
        data=data.encode("utf-8", "surrogatepass") if data is not None else None,
        message_id=identity.message_id,
        publish_time=identity.publish_time,
        attributes=attributes,
        subscription=identity.subscription,
        data_is_base64=True,
        ordering_key=identity.ordering_key,
    )


def from_pulled(message: Any, subscription: str | None) -> Message:
    """A google-cloud-pubsub `PubsubMessage` (read by attribute: no client import here).

    The client's proto-plus wrapper converts each field on every read (about 22 µs a message,
    more than parsing it); its underlying protobuf (`PubsubMessage.pb`) reads in about 3 µs."""
    to_protobuf = getattr(type(message), "pb", None)
    if callable(to_protobuf):
        message = to_protobuf(message)
    published = message.publish_time
    publish_time: str | None
    if isinstance(published, datetime):
        publish_time = timestamps.format_utc(published)
    elif hasattr(published, "seconds"):  # google.protobuf.Timestamp; unset is the epoch
        publish_time = timestamps.from_epoch(published.seconds, published.nanos) if published.seconds else None
    else:
        publish_time = _text(published)
    return Message(
        data=bytes(message.data),
        message_id=message.message_id or None,
        publish_time=publish_time,
        attributes=dict(message.attributes),
        subscription=subscription,
        data_is_base64=False,
        ordering_key=getattr(message, "ordering_key", None) or None,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _attributes(value: Any) -> dict[str, str] | None:
    """The attributes, or None when they are not an object of strings."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        return None
    return dict(value)
