"""What one function instance builds once and shares across its requests: the settings (or the
configuration error that every request reports), the log set-up, and the clients behind each
entry point, built on first use (the Google clients are heavy to import: only the entry point
that needs one pays for it).

The entry points (sinks/ingest.py, sinks/drain.py, sinks/forward.py) take a Runtime; main.py holds one per
process. Tests build a Runtime with their own settings and, for faults no emulator can produce,
their own store or pull source.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from functions.config import ConfigError, Settings
from functions.outcome import Outcome
from sinks import logs
from sinks.batcher import MicroBatcher
from sinks.drain import PullJob, PullSource
from sinks.forward import ForwardJob, Sender

SUMMARY_INTERVAL_SECONDS = 60.0  # one ingest summary line per instance per minute at most

Submit = Callable[[Outcome, float], None]  # (outcome, deadline): returns once stored, else raises


class StoreLike(Protocol):
    def store(self, outcomes: Sequence[Outcome]) -> object: ...


StoreFactory = Callable[[Settings, bool, bool], StoreLike]  # (settings, bigquery, archive)
PullerFactory = Callable[[str], PullSource]  # subscription path
SenderFactory = Callable[[Settings], Sender]  # FORWARD_DESTINATION and its TLS settings


def _store(settings: Settings, bigquery: bool, archive: bool) -> StoreLike:
    from sinks.store import Store  # noqa: PLC0415  # the Google clients: on first use only

    return Store(settings, bigquery=bigquery, archive=archive)


def _puller(subscription: str) -> PullSource:
    from sinks.pubsub import Puller  # noqa: PLC0415

    return Puller(subscription)


def _sender(settings: Settings) -> Sender:
    from sinks.syslog import SyslogSender  # noqa: PLC0415

    assert settings.forward_destination is not None  # forward_job checks it first
    return SyslogSender(
        settings.forward_destination, ca_file=settings.forward_ca_file, timeout=settings.forward_send_timeout_seconds
    )


class Runtime:
    def __init__(
        self,
        settings: Settings | ConfigError,
        *,
        store_factory: StoreFactory = _store,
        puller_factory: PullerFactory = _puller,
        sender_factory: SenderFactory = _sender,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._store_factory = store_factory
        self._puller_factory = puller_factory
        self._sender_factory = sender_factory
        self.clock = clock
        self._lock = threading.Lock()
        self._submit: Submit | None = None
        self._drain_job: PullJob | None = None
        self._forward_job: ForwardJob | None = None
        self.ingest_counts = logs.IntervalCounts(SUMMARY_INTERVAL_SECONDS, clock)
        if isinstance(settings, Settings):
            logs.configure(settings.log_level, settings.project)
        else:
            logs.configure("INFO", None)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Runtime:
        try:
            settings: Settings | ConfigError = Settings.from_env(env)
        except ConfigError as error:
            settings = error
        runtime = cls(settings)
        atexit.register(runtime.flush)  # the last interval's counts, when the instance stops
        return runtime

    def settings(self) -> Settings:
        """The settings; raises the ConfigError they were refused with."""
        if isinstance(self._settings, ConfigError):
            raise self._settings
        return self._settings

    def ingest_submit(self) -> Submit:
        """How `ingest` stores one outcome: through the micro-batcher, which shares one append
        among concurrent requests (INGEST_BATCH_WAIT_MS > 0), or with a store call of its own."""
        settings = self.settings()
        settings.check_ingest()
        with self._lock:
            if self._submit is None:
                store = self._store_factory(settings, True, settings.ingest_write_archive)
                if settings.ingest_batch_wait_ms == 0:

                    def alone(outcome: Outcome, deadline: float) -> None:  # bounded by the write budget
                        store.store([outcome])

                    self._submit = alone
                else:
                    self._submit = MicroBatcher(store.store, max_wait=settings.ingest_batch_wait_ms / 1000).submit
            return self._submit

    def drain_job(self) -> PullJob:
        settings = self.settings()
        settings.check_drain()
        if not settings.drain_subscription:
            raise ConfigError("DRAIN_SUBSCRIPTION must be set for drain (projects/P/subscriptions/S)")
        with self._lock:
            if self._drain_job is None:
                store = self._store_factory(settings, settings.drain_write_bigquery, True)
                self._drain_job = PullJob(
                    source=self._puller_factory(settings.drain_subscription),
                    deliver=store.store,
                    batch_size=settings.drain_batch_size,
                    budget_seconds=settings.drain_budget_seconds,
                    max_message_bytes=settings.max_message_bytes,
                )
            return self._drain_job

    def forward_job(self) -> ForwardJob:
        settings = self.settings()
        if not settings.forward_subscription:
            raise ConfigError("FORWARD_SUBSCRIPTION must be set for forward (projects/P/subscriptions/S)")
        if settings.forward_destination is None:
            raise ConfigError("FORWARD_DESTINATION must be set for forward (syslog+tls://host:port)")
        with self._lock:
            if self._forward_job is None:
                self._forward_job = ForwardJob(
                    source=self._puller_factory(settings.forward_subscription),
                    sender=self._sender_factory(settings),
                    options=settings.syslog_options(),
                    batch_size=settings.forward_batch_size,
                    budget_seconds=settings.forward_budget_seconds,
                    linger_seconds=settings.forward_linger_seconds,
                )
            return self._forward_job

    def flush(self) -> None:
        """Logs what this instance counted since its last summary line."""
        summarise_ingest(self, force=True)


def summarise_ingest(runtime: Runtime, force: bool = False) -> None:
    """One INFO line with `ingest`'s counts per outcome (and failed deliveries) for the interval."""
    taken = runtime.ingest_counts.take(force)
    if taken is None:
        return
    counts, seconds = taken
    total = sum(counts.values())
    shown = ", ".join(f"{key} {n}" for key, n in sorted(counts.items()))
    logs.log(logging.getLogger(f"{logs.LOGGER}.ingest"), logging.INFO,
             f"ingest: {total} deliveries in {seconds:.0f} s: {shown}", counts=counts, seconds=round(seconds, 3))  # fmt: skip
