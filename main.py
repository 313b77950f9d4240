"""Cloud Functions entry points: `ingest` (Pub/Sub push or Eventarc -> BigQuery), `drain` (batch
pull -> archive, optionally BigQuery) and `forward` (batch pull -> syslog over TLS, e.g.
Papertrail). Wiring only: the logic is in sinks/ingest.py, sinks/drain.py and sinks/forward.py,
and what an instance shares between requests is one `Runtime`, built on first use.

All three are HTTP functions: `ingest` reads the raw request itself, so that it accepts our push
envelope, Eventarc's CloudEvents (binary and structured) and bodies no CloudEvent conversion can
take, under one error contract. Deploy from this directory with `gcloud functions deploy` (see
the README), or run locally: `functions-framework --target ingest` / `drain` / `forward`.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

import flask
import functions_framework

from sinks import drain as pull_loop
from sinks import forward as forward_loop
from sinks import ingest as ingest_handler
from sinks.runtime import Runtime

_lock = threading.Lock()  # concurrent first requests must not build two


@functools.cache
def _build() -> Runtime:
    return Runtime.from_env()


def runtime() -> Runtime:
    """The one Runtime of this process (tests replace this function to inject their own)."""
    with _lock:
        return _build()


@functions_framework.http
def ingest(request: flask.Request) -> tuple[dict[str, Any], int]:
    """One Pub/Sub message. Answers 200 only once its row or error row is stored; 503 or 500
    (Pub/Sub redelivers) when a dependency failed, the deadline passed or the configuration is wrong."""
    status, body = ingest_handler.handle(request.method, request.get_data(), dict(request.headers.items()), runtime())
    return body, status


@functions_framework.http
def drain(request: flask.Request) -> tuple[dict[str, Any], int]:
    """Pulls DRAIN_SUBSCRIPTION in batches until empty or DRAIN_BUDGET_SECONDS, stores each batch,
    acks only what was stored, and answers with its JSON summary (500 if any stage failed)."""
    shared = runtime()
    status, body = pull_loop.run("drain", shared.drain_job, shared.clock)
    return body, status


@functions_framework.http
def forward(request: flask.Request) -> tuple[dict[str, Any], int]:
    """Pulls FORWARD_SUBSCRIPTION in batches until empty (or FORWARD_LINGER_SECONDS without
    messages) or FORWARD_BUDGET_SECONDS, sends each batch over one syslog connection, acks it once
    the receiver has read it, and answers with its JSON summary (500 if any stage failed)."""
    shared = runtime()
    status, body = forward_loop.run(shared.forward_job, shared.clock)
    return body, status
