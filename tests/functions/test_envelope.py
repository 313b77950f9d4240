"""Deliveries -> Message (functions/envelope.py)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from types import SimpleNamespace

import orjson
import pytest
from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

from functions.envelope import EnvelopeError, from_pulled, from_push_body
from functions.message import Message

# Push body per cloud.google.com/pubsub/docs/push#receive_push; functions-framework's
# CloudEvent for it (and Eventarc's) carries the same object as `data`.
PUSH_BODY = {
    "message": {
        "attributes": {"logging.googleapis.com/timestamp": "2026-11-20T09:15:02Z"},
        "data": base64.b64encode(b'{"textPayload": "hi"}').decode(),
        "messageId": "2070443601311540",
        "message_id": "2070443601311540",
        "publishTime": "2026-11-20T09:15:03.123Z",
        "publish_time": "2026-11-20T09:15:03.123Z",
    },
    "subscription": "projects/blog-prod-123/subscriptions/logexport-ingest",
}


def test_push_body_bytes_and_dict_give_the_same_message() -> None:
    from_bytes = from_push_body(orjson.dumps(PUSH_BODY))
    assert from_bytes == from_push_body(PUSH_BODY)
    assert from_bytes.data_is_base64
    assert base64.b64decode(from_bytes.data or b"") == b'{"textPayload": "hi"}'
    assert (from_bytes.message_id, from_bytes.publish_time) == ("2070443601311540", "2026-11-20T09:15:03.123Z")
    assert from_bytes.subscription == "projects/blog-prod-123/subscriptions/logexport-ingest"
    assert from_bytes.attributes == {"logging.googleapis.com/timestamp": "2026-11-20T09:15:02Z"}


def test_message_without_data_keeps_its_identity() -> None:
    message = from_push_body({"message": {"messageId": "1", "attributes": {"a": "b"}}})
    assert (message.data, message.message_id, message.subscription) == (None, "1", None)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", {"no": "message"}, {"message": "text"}, {"message": {"data": 123}},
     {"message": {"data": "", "attributes": {"a": 1}}}],
)  # fmt: skip
def test_malformed_envelopes_raise(body: bytes | dict[str, object]) -> None:
    with pytest.raises(EnvelopeError):
        from_push_body(body)


def test_pulled_message() -> None:
    pulled = SimpleNamespace(
        data=b"{}", attributes={"k": "v"}, message_id="42", ordering_key="",
        publish_time=datetime(2026, 11, 20, 9, 15, 3, 123000, tzinfo=UTC),
    )  # fmt: skip
    message = from_pulled(pulled, "projects/p/subscriptions/drain")
    assert (message.data, message.data_is_base64, message.publish_time) == (b"{}", False, "2026-11-20T09:15:03.123000Z")
    assert (message.subscription, message.ordering_key) == ("projects/p/subscriptions/drain", None)


def test_pulled_message_as_the_client_returns_it() -> None:
    """The proto-plus message of google-cloud-pubsub, read through its underlying protobuf."""
    published = datetime(2026, 11, 20, 9, 15, 3, 123456, tzinfo=UTC)
    pulled = pubsub_v1.types.PubsubMessage(data=b"{}", message_id="42", publish_time=published, attributes={"k": "v"})
    message = from_pulled(pulled, "projects/p/subscriptions/drain")
    assert message == Message(
        data=b"{}", message_id="42", publish_time="2026-11-20T09:15:03.123456Z", attributes={"k": "v"},
        subscription="projects/p/subscriptions/drain", data_is_base64=False,
    )  # fmt: skip
    assert from_pulled(pubsub_v1.types.PubsubMessage(data=b"x"), None).publish_time is None


def test_non_ascii_data_is_kept_for_the_decoder_to_refuse() -> None:
    """`"data": "é"` is no base64: the decoder's `bad_base64`, not an exception here."""
    message = from_push_body({"message": {"data": "é", "messageId": "7"}})
    assert (message.data, message.message_id) == ("é".encode(), "7")


@pytest.mark.parametrize(
    "body",
    [{"message": {"messageId": "m-1", "publishTime": "2026-11-20T09:15:03Z", "data": ["not", "text"]}},
     {"message": {"messageId": "m-1", "publishTime": "2026-11-20T09:15:03Z", "data": "", "attributes": ["a"]}},
     {"message": {"messageId": "m-1", "publishTime": "2026-11-20T09:15:03Z", "attributes": {"k": {"v": 1}}}}],
)  # fmt: skip
def test_a_malformed_message_keeps_the_identity_that_could_be_read(body: dict[str, object]) -> None:
    with pytest.raises(EnvelopeError) as raised:
        from_push_body({**body, "subscription": "projects/p/subscriptions/s"})
    identity = raised.value.identity
    assert identity is not None
    assert (identity.message_id, identity.publish_time) == ("m-1", "2026-11-20T09:15:03Z")
    assert identity.subscription == "projects/p/subscriptions/s"


@pytest.mark.parametrize("body", [b"[1, 2]", b"\xff", {"message": ["m-1"]}, {"message": {"messageId": ["m-1"]}}])
def test_no_identity_when_none_can_be_read(body: bytes | dict[str, object]) -> None:
    try:
        message = from_push_body(body)
    except EnvelopeError as error:
        assert error.identity is None or error.identity.message_id is None
    else:
        assert message.message_id is None
