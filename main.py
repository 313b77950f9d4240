"""Cloud Functions entry points: `ingest` (Pub/Sub push -> BigQuery), `drain` (batch pull
-> archive, optionally BigQuery) and `forward` (batch pull -> syslog over TLS, e.g. Papertrail).
Thin wiring only: clients are built lazily, once per instance, and shared by concurrent
requests (the sinks are thread-safe).

Deploy from this directory with `gcloud functions deploy` (see the README), or run locally:
`functions-framework --target ingest --signature-type cloudevent` / `--target drain` / `--target forward`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flask
import functions_framework

from functions import envelope, pipeline
from functions.config import ConfigError, Settings

if TYPE_CHECKING:  # the sinks import the Google clients: heavy, so only on first use
    from cloudevents.http.event import CloudEvent

    from functions.outcome import Outcome
    from sinks.pubsub import Puller
    from sinks.store import Store
    from sinks.syslog import SyslogSender

OWN_LOG_LABEL = "logexport_component"  # the sink filter excludes entries carrying it

_lock = threading.RLock()  # builders call _once for what they need
_instances: dict[str, Any] = {}


def _once(name: str, build: Any) -> Any:
    with _lock:
        if name not in _instances:
            _instances[name] = build()
        return _instances[name]


def _settings() -> Settings:
    return _once("settings", Settings.from_env)  # type: ignore[no-any-return]


def _log(component: str) -> logging.Logger:
    """Structured JSON on stdout (severity, trace correlation, our label), set up on first use."""

    def build() -> logging.Logger:
        from google.cloud.logging.handlers import StructuredLogHandler

        logger = logging.getLogger(f"logexport.{component}")
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(
            StructuredLogHandler(  # type: ignore[no-untyped-call]
                labels={OWN_LOG_LABEL: component}, project_id=_settings().project
            )
        )
        return logger

    return _once(f"log.{component}", build)  # type: ignore[no-any-return]


def _ingest_submit() -> Callable[[Outcome], object]:
    """How `ingest` stores one outcome: through the micro-batcher, which shares one append
    among concurrent requests (INGEST_BATCH_WAIT_MS > 0), or with a store call of its own."""

    def build() -> Callable[[Outcome], object]:
        from sinks.batcher import MicroBatcher
        from sinks.store import Store

        settings = _settings()
        store = Store(settings, bigquery=True, archive=settings.ingest_write_archive)
        if settings.ingest_batch_wait_ms == 0:
            return lambda outcome: store.store([outcome])
        return MicroBatcher(store.store, max_wait=settings.ingest_batch_wait_ms / 1000).submit

    return _once("ingest.submit", build)  # type: ignore[no-any-return]


def _drain_parts() -> tuple[Puller, Store]:
    def build() -> tuple[Puller, Store]:
        from sinks.pubsub import Puller
        from sinks.store import Store

        settings = _settings()
        if not settings.drain_subscription:
            raise ConfigError("DRAIN_SUBSCRIPTION must be set for drain (projects/P/subscriptions/S)")
        store = Store(settings, bigquery=settings.drain_write_bigquery, archive=True)
        return Puller(settings.drain_subscription), store

    return _once("drain.parts", build)  # type: ignore[no-any-return]


@functions_framework.cloud_event
def ingest(event: CloudEvent) -> None:
    """One Pub/Sub message, from an Eventarc trigger or our own push subscription (which
    functions-framework converts to a CloudEvent). Returns only once the row or error row is
    stored; raises (HTTP 500, so Pub/Sub redelivers) when a dependency fails."""
    # The request body is the push envelope itself for our push subscription and for
    # Eventarc's binary-mode events; reading it keeps the `subscription` that the
    # framework's conversion drops. Structured-mode events carry it in `event.data`.
    body = flask.request.get_json(silent=True)
    _ingest_one(body if isinstance(body, dict) and "message" in body else event.data)


@functions_framework.errorhandler(400)  # type: ignore[misc]  # untyped decorator
def _unconverted_push(error: Exception) -> tuple[str, int]:
    """functions-framework refuses (400) push bodies it cannot convert to a CloudEvent, such
    as a message without `data`. Those are deliveries too: they get their error row and an
    ack instead of bouncing until the dead-letter topic."""
    _ingest_one(flask.request.get_data())
    return "OK", 200


def _ingest_one(delivery: Any) -> None:
    started = time.monotonic()
    settings = _settings()
    try:
        message = envelope.from_push_body(delivery)
    except envelope.EnvelopeError as e:
        raw = delivery if isinstance(delivery, bytes) else repr(delivery).encode()
        outcome = pipeline.envelope_failed(raw, e)
    else:
        outcome = pipeline.process(message, settings.max_message_bytes)
    _ingest_submit()(outcome)
    _log("ingest").info(
        "ingest %s in %.3fs",
        f"{outcome.kind} ({outcome.reason})" if outcome.reason else outcome.kind,
        time.monotonic() - started,
        extra={
            "json_fields": {"outcome": outcome.kind, "reason": outcome.reason, "message_id": outcome.message.message_id}
        },
    )


@functions_framework.http
def drain(request: flask.Request) -> tuple[dict[str, Any], int]:
    """Pulls DRAIN_SUBSCRIPTION in batches until empty or DRAIN_BUDGET_SECONDS, stores each
    batch, acks only what was stored, and answers with a JSON summary (500 if a batch failed)."""
    from sinks.drain import drain as run_drain

    settings = _settings()
    puller, store = _drain_parts()
    summary = run_drain(
        puller,
        store,
        batch_size=settings.drain_batch_size,
        budget_seconds=settings.drain_budget_seconds,
        max_message_bytes=settings.max_message_bytes,
    )
    body = summary.to_json()
    level = logging.ERROR if summary.failure else logging.INFO
    _log("drain").log(level, "drain %s: %d pulled, %d acked in %.3fs", summary.stopped, summary.pulled,
                      summary.acked, summary.seconds, extra={"json_fields": body})  # fmt: skip
    return body, 500 if summary.failure else 200


def _forward_parts() -> tuple[Puller, SyslogSender]:
    def build() -> tuple[Puller, SyslogSender]:
        from sinks.pubsub import Puller
        from sinks.syslog import SyslogSender

        settings = _settings()
        if not settings.forward_subscription:
            raise ConfigError("FORWARD_SUBSCRIPTION must be set for forward (projects/P/subscriptions/S)")
        if settings.forward_destination is None:
            raise ConfigError("FORWARD_DESTINATION must be set for forward (syslog+tls://host:port)")
        sender = SyslogSender(
            settings.forward_destination, ca_file=settings.forward_ca_file, timeout=settings.forward_timeout_seconds
        )
        return Puller(settings.forward_subscription), sender

    return _once("forward.parts", build)  # type: ignore[no-any-return]


@functions_framework.http
def forward(request: flask.Request) -> tuple[dict[str, Any], int]:
    """Pulls FORWARD_SUBSCRIPTION in batches until empty or FORWARD_BUDGET_SECONDS, sends each
    batch to FORWARD_DESTINATION over one syslog connection, acks it once the receiver has read
    it, and answers with a JSON summary (500 if a batch failed)."""
    from sinks.forward import forward as run_forward

    settings = _settings()
    puller, sender = _forward_parts()
    summary = run_forward(
        puller,
        sender,
        options=settings.syslog_options(),
        batch_size=settings.forward_batch_size,
        budget_seconds=settings.forward_budget_seconds,
        linger_seconds=settings.forward_linger_seconds,
    )
    body = summary.to_json()
    level = logging.ERROR if summary.failure else logging.INFO
    _log("forward").log(level, "forward %s: %d pulled, %d sent, %d skipped in %.3fs", summary.stopped, summary.pulled,
                        summary.sent, summary.skipped, summary.seconds, extra={"json_fields": body})  # fmt: skip
    return body, 500 if summary.failure else 200
