"""The `ingest` entry point as plain code: one HTTP request in, (status, JSON body) out.

The raw body is read once, whichever way the message came in:
- our push subscription: the push envelope (cloud.google.com/pubsub/docs/push#receive_push);
- an Eventarc Pub/Sub trigger, binary content mode (its default): `ce-*` headers, the same
  envelope as the body (cloud.google.com/eventarc/docs/cloudevents);
- a structured-mode CloudEvent (`Content-Type: application/cloudevents+json`): the envelope in
  `data`, or base64 in `data_base64`;
- anything a misconfigured caller sends (a JSON list, `text/plain`, bytes that are not JSON or
  not UTF-8...): a `bad_envelope` error row holding the body byte for byte, with the message id
  when one can be read, and an ack: redelivering it could never help.

Answers: 200 once the row or error row is stored (Pub/Sub acks); 503 when a dependency failed or
the request's deadline passed first (Pub/Sub redelivers, with backoff); 500 for a configuration
error or a bug (not acked either). Every failure is one ERROR line with the message id, reason,
stage and the dependency's error; successes are counted into one INFO line per instance and minute.
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson

from functions import envelope, pipeline
from functions.config import ConfigError
from functions.message import Message
from functions.outcome import INTERNAL_ERROR, Outcome
from sinks import logs
from sinks.errors import RetryableError
from sinks.runtime import Runtime, summarise_ingest

PUBSUB_EVENT_TYPE = "google.cloud.pubsub.topic.v1.messagePublished"
STRUCTURED_CLOUDEVENT = "application/cloudevents+json"

log = logging.getLogger(f"{logs.LOGGER}.ingest")


def handle(method: str, body: bytes, headers: Mapping[str, str], runtime: Runtime) -> tuple[int, dict[str, Any]]:
    """One delivery -> (HTTP status, JSON body), stored before a 200 (see the module docstring)."""
    started = runtime.clock()
    if method != "POST":
        return 405, {"error": f"{method} is not a delivery: Pub/Sub and Eventarc POST"}
    headers = {name.lower(): value for name, value in headers.items()}
    trace = logs.trace_of(headers)
    outcome: Outcome | None = None
    stage = "config"
    try:
        settings = runtime.settings()
        settings.check_ingest()
        deadline = time.monotonic() + settings.ingest_deadline_seconds()
        stage = "envelope"
        outcome = read(body, headers, settings.max_message_bytes)
        stage = "store"
        runtime.ingest_submit()(outcome, deadline)
    except ConfigError as e:
        return _failed(runtime, 500, "config_error", "config", e, outcome, trace)
    except RetryableError as e:
        return _failed(runtime, 503, "not_stored", stage, e, outcome, trace)
    except Exception as e:  # a bug: fail the delivery (never ack what may not be stored), say where
        return _failed(runtime, 500, INTERNAL_ERROR, stage, e, outcome, trace, pipeline.describe(e))
    runtime.ingest_counts.add(outcome.kind)
    message_id = outcome.message.message_id
    seconds = round(runtime.clock() - started, 3)
    if outcome.reason == INTERNAL_ERROR:
        logs.log(log, logging.WARNING, f"internal error, stored as an error row: {outcome.detail}", trace,
                 message_id=message_id, outcome=outcome.kind, reason=outcome.reason, seconds=seconds)  # fmt: skip
    else:
        logs.log(log, logging.DEBUG, f"{outcome.kind} {outcome.reason or ''}".strip(), trace,
                 message_id=message_id, outcome=outcome.kind, reason=outcome.reason, seconds=seconds)  # fmt: skip
    summarise_ingest(runtime)
    return 200, {"outcome": outcome.kind, "reason": outcome.reason, "message_id": message_id}


def _failed(
    runtime: Runtime,
    status: int,
    reason: str,
    stage: str,
    error: Exception,
    outcome: Outcome | None,
    trace: logs.Trace | None,
    text: str | None = None,
) -> tuple[int, dict[str, Any]]:
    text = text or str(error)
    message_id = outcome.message.message_id if outcome else None
    runtime.ingest_counts.add(f"failed:{reason}")
    logs.log(log, logging.ERROR, f"delivery of message {message_id} failed at {stage} ({reason}): {text}", trace,
             message_id=message_id, reason=reason, stage=stage, error=text)  # fmt: skip
    summarise_ingest(runtime)
    return status, {"error": text, "reason": reason, "stage": stage, "message_id": message_id}


def read(body: bytes, headers: Mapping[str, str], max_message_bytes: int) -> Outcome:
    """The delivery's one outcome (`headers` with lower-case names); never raises (a bug becomes an `internal_error` outcome)."""
    identity: Message | None = None
    try:
        inner, identity = _unwrap(body, headers)
        message = envelope.from_push_body(inner)
    except envelope.EnvelopeError as e:
        return pipeline.envelope_failed(body, e, e.identity or identity)
    except Exception as e:
        return pipeline.internal_error(_identified(body, identity), body, e, "envelope")
    return pipeline.process(message, max_message_bytes)


def _unwrap(body: bytes, headers: Mapping[str, str]) -> tuple[bytes | Any, Message | None]:
    """(`headers` with lower-case names.) The push envelope inside the request (bytes or parsed) and, for a CloudEvent of a
    Pub/Sub message, the message id its `id` carries (kept if the envelope proves unreadable)."""
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != STRUCTURED_CLOUDEVENT:
        event_id = headers.get("ce-id") if headers.get("ce-type") == PUBSUB_EVENT_TYPE else None
        return body, Message(data=None, message_id=event_id or None)
    try:
        event = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        raise envelope.EnvelopeError(f"structured CloudEvent is not JSON: {e}") from None
    if not isinstance(event, dict):
        raise envelope.EnvelopeError(f"structured CloudEvent is a JSON {type(event).__name__}, not an object")
    event_id = event.get("id") if event.get("type") == PUBSUB_EVENT_TYPE else None
    identity = Message(data=None, message_id=event_id if isinstance(event_id, str) and event_id else None)
    if "data_base64" in event:
        encoded = event["data_base64"]
        try:
            return base64.b64decode(encoded if isinstance(encoded, str) else "", validate=True), identity
        except (binascii.Error, ValueError):
            raise envelope.EnvelopeError("structured CloudEvent data_base64 is not base64", identity) from None
    return event.get("data"), identity


def _identified(body: bytes, identity: Message | None) -> Message:
    return Message(data=body, message_id=identity.message_id if identity else None)
