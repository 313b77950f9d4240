"""Retries a dependency call with exponential backoff and jitter inside one time budget.

The client libraries' own retries are switched off by the callers (their defaults run for
minutes or a day), so this is the only retry loop and the budget bounds the whole write: a
stopped BigQuery or Cloud Storage surfaces as `RetryableError` in time for the function to
fail the delivery instead of hanging until the platform kills it.
"""

from __future__ import annotations

import http.client
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import requests
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from sinks.errors import DestinationError, RetryableError

T = TypeVar("T")

INITIAL_BACKOFF_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 5.0
MIN_ATTEMPT_TIMEOUT_SECONDS = 0.5
MIN_SLEEP_SECONDS = 0.01
MAX_ATTEMPT_TIMEOUT_SECONDS = 120.0

log = logging.getLogger(__name__)

_TRANSIENT = (
    api_exceptions.TooManyRequests,
    api_exceptions.ServerError,  # 500, 501, 502, 503, 504 and gRPC INTERNAL, UNKNOWN, UNAVAILABLE
    api_exceptions.DeadlineExceeded,
    api_exceptions.Aborted,
    api_exceptions.RetryError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    auth_exceptions.TransportError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
)


class Budget:
    """The time one write may take, retries included."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def remaining(self) -> float:
        return self.seconds - self.elapsed()

    def attempt_timeout(self) -> float:
        """The timeout for one call: what is left, within sane bounds."""
        return min(MAX_ATTEMPT_TIMEOUT_SECONDS, max(MIN_ATTEMPT_TIMEOUT_SECONDS, self.remaining()))


def call(operation: Callable[[float], T], budget: Budget, what: str) -> T:
    """Runs `operation(timeout)` until it succeeds, retrying transient failures while the budget lasts.

    A transient failure past the budget raises `RetryableError` (at most one attempt timeout,
    `MIN_ATTEMPT_TIMEOUT_SECONDS`, after the budget); an API error that retrying
    cannot fix (404, 403, 400...) raises `DestinationError` at once; anything else propagates.
    """
    attempt = 0
    while True:
        try:
            return operation(budget.attempt_timeout())
        except Exception as error:
            if not isinstance(error, _TRANSIENT):
                if isinstance(error, api_exceptions.GoogleAPICallError):
                    raise DestinationError(f"{what}: {error}") from error
                raise
            delay = min(MAX_BACKOFF_SECONDS, INITIAL_BACKOFF_SECONDS * 2**attempt) * random.uniform(0.5, 1.0)
            remaining = budget.remaining()
            if remaining <= MIN_SLEEP_SECONDS:
                raise RetryableError(
                    f"{what}: still failing after {attempt + 1} attempts in {budget.elapsed():.1f} s: {error}"
                ) from error
            delay = min(delay, remaining)  # the last attempt comes at the deadline, not before it
            log.warning("%s: attempt %d failed (%s), retrying in %.2f s", what, attempt + 1, error, delay)
            time.sleep(delay)
            attempt += 1
