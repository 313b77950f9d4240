"""The budgeted retry loop. Throttling (429) and a 500 are faults no emulator produces on demand,
so a scripted operation stands in for the API here; outages are tested on the real emulators."""

from __future__ import annotations

import time

import pytest
from google.api_core import exceptions as api_exceptions

from sinks import retry
from sinks.errors import DestinationError, RetryableError


def api_error(status: int) -> Exception:
    error: Exception = api_exceptions.from_http_status(status, "scripted")  # type: ignore[no-untyped-call]
    return error


class Scripted:
    """Raises the given errors in turn, then returns "ok"; records the timeouts it was given."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.timeouts: list[float] = []

    def __call__(self, timeout: float) -> str:
        self.timeouts.append(timeout)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_transient_errors_are_retried_until_success() -> None:
    operation = Scripted(
        api_error(429),
        api_error(500),
        ConnectionResetError("reset"),
    )
    assert retry.call(operation, retry.Budget(10), "test") == "ok"
    assert len(operation.timeouts) == 4
    assert all(0 < t <= 10 for t in operation.timeouts)


def test_transient_errors_past_the_budget_raise_retryable() -> None:
    operation = Scripted(*[api_error(503)] * 1000)
    started = time.monotonic()
    with pytest.raises(RetryableError, match="still failing") as raised:
        retry.call(operation, retry.Budget(1.0), "test")
    assert not isinstance(raised.value, DestinationError)
    assert time.monotonic() - started <= 1.2


@pytest.mark.parametrize("status", [400, 403, 404])
def test_errors_retrying_cannot_fix_raise_destination_error_at_once(status: int) -> None:
    operation = Scripted(api_error(status))
    with pytest.raises(DestinationError):
        retry.call(operation, retry.Budget(10), "test")
    assert len(operation.timeouts) == 1


def test_programming_errors_propagate() -> None:
    with pytest.raises(KeyError):
        retry.call(Scripted(KeyError("x")), retry.Budget(10), "test")
