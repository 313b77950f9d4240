"""The one definition of the processor's configuration, read from environment variables.

Every knob is documented in the README's configuration reference; `Settings.from_env`
takes a mapping so that tests and the local demo can build settings without touching
`os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypedDict
from urllib.parse import urlsplit

from functions import syslog

WriteMethod = Literal["storage_write", "insert_all"]

DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # Pub/Sub's own limit for one message
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# The time model that makes the budgets nest (terraform/locals.tf holds the same numbers, and a
# test keeps them equal). A write retries within WRITE_BUDGET_SECONDS and may end up to one
# minimum attempt timeout later (sinks/retry.py); a pull and an ack are single bounded calls.
WRITE_OVERRUN_SECONDS = 0.5
PULL_TIMEOUT_SECONDS = 10.0
ACK_TIMEOUT_SECONDS = 5.0
RESPONSE_MARGIN_SECONDS = 2.0  # parsing, logging and answering, after the last write


class ConfigError(ValueError):
    """A configuration value is missing or malformed: a deployment mistake, not bad data."""


@dataclass(frozen=True, slots=True)
class SyslogDestination:
    """FORWARD_DESTINATION: `syslog+tls://host:port` (RFC 5425) or `syslog+tcp://host:port`."""

    tls: bool
    host: str
    port: int


@dataclass(frozen=True)
class Settings:
    project: str | None = None
    bigquery_dataset: str = "logs"
    bigquery_table: str = "http_requests"
    bigquery_error_table: str = "errors"
    bigquery_write_method: WriteMethod = "storage_write"
    bigquery_emulator_host: str | None = None
    bigquery_storage_emulator_host: str | None = None
    storage_emulator_host: str | None = None
    archive_bucket: str | None = None
    archive_prefix: str = "logs"
    drain_subscription: str | None = None
    drain_write_bigquery: bool = False
    ingest_write_archive: bool = False
    ingest_batch_wait_ms: int = 20
    drain_batch_size: int = 1000
    drain_budget_seconds: float = 200.0
    write_budget_seconds: float = 30.0
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    ingest_timeout_seconds: float = 60.0
    drain_timeout_seconds: float = 300.0
    ack_deadline_seconds: float = 120.0
    log_level: str = "INFO"
    forward_subscription: str | None = None
    forward_destination: SyslogDestination | None = field(default=None, repr=False)  # a secret
    forward_ca_file: str | None = None
    forward_framing: syslog.Framing = "octet-counting"
    forward_facility: int = syslog.DEFAULT_FACILITY
    forward_max_message_bytes: int = syslog.DEFAULT_MAX_BYTES
    forward_batch_size: int = 1000
    forward_budget_seconds: float = 50.0
    forward_linger_seconds: float = 0.0
    forward_send_timeout_seconds: float = 10.0

    @property
    def bigquery_dedup_view(self) -> str:
        """`<requests table>_dedup`, as Terraform and the gcloud script name the view."""
        return f"{self.bigquery_table}_dedup"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        method = env.get("BIGQUERY_WRITE_METHOD", "storage_write")
        if method not in ("storage_write", "insert_all"):
            raise ConfigError(f"BIGQUERY_WRITE_METHOD must be storage_write or insert_all, not {method!r}")
        return cls(
            project=env.get("GOOGLE_CLOUD_PROJECT") or env.get("GCP_PROJECT") or None,
            bigquery_dataset=env.get("BIGQUERY_DATASET", cls.bigquery_dataset),
            bigquery_table=env.get("BIGQUERY_TABLE", cls.bigquery_table),
            bigquery_error_table=env.get("BIGQUERY_ERROR_TABLE", cls.bigquery_error_table),
            bigquery_write_method=method,  # type: ignore[arg-type]  # checked above
            bigquery_emulator_host=env.get("BIGQUERY_EMULATOR_HOST") or None,
            bigquery_storage_emulator_host=env.get("BIGQUERY_STORAGE_EMULATOR_HOST") or None,
            storage_emulator_host=env.get("STORAGE_EMULATOR_HOST") or None,
            archive_bucket=env.get("ARCHIVE_BUCKET") or None,
            archive_prefix=env.get("ARCHIVE_PREFIX", cls.archive_prefix).strip("/"),
            drain_subscription=env.get("DRAIN_SUBSCRIPTION") or None,
            drain_write_bigquery=_bool(env, "DRAIN_WRITE_BIGQUERY", cls.drain_write_bigquery),
            ingest_write_archive=_bool(env, "INGEST_WRITE_ARCHIVE", cls.ingest_write_archive),
            ingest_batch_wait_ms=_int(env, "INGEST_BATCH_WAIT_MS", cls.ingest_batch_wait_ms, 0, 1000),
            drain_batch_size=_int(env, "DRAIN_BATCH_SIZE", cls.drain_batch_size, 1, 1000),
            drain_budget_seconds=_float(env, "DRAIN_BUDGET_SECONDS", cls.drain_budget_seconds),
            write_budget_seconds=_float(env, "WRITE_BUDGET_SECONDS", cls.write_budget_seconds),
            max_message_bytes=_int(env, "MAX_MESSAGE_BYTES", cls.max_message_bytes, 1, 64 * 1024 * 1024),
            ingest_timeout_seconds=_float(env, "INGEST_TIMEOUT_SECONDS", cls.ingest_timeout_seconds),
            drain_timeout_seconds=_float(env, "DRAIN_TIMEOUT_SECONDS", cls.drain_timeout_seconds),
            ack_deadline_seconds=_float(env, "ACK_DEADLINE_SECONDS", cls.ack_deadline_seconds),
            log_level=_choice(env, "LOG_LEVEL", cls.log_level, LOG_LEVELS),
            **_forward_fields(env, cls),
        )

    # -- budgets that nest ---------------------------------------------------------------------
    def ingest_worst_seconds(self) -> float:
        """The longest an `ingest` request takes: the micro-batch wait, then its writes (the
        archive first when INGEST_WRITE_ARCHIVE, then BigQuery), each within its budget."""
        writes = 2 if self.ingest_write_archive else 1
        return self.ingest_batch_wait_ms / 1000 + writes * (self.write_budget_seconds + WRITE_OVERRUN_SECONDS)

    def ingest_deadline_seconds(self) -> float:
        """How long a request may wait for its store before it answers 503 (Pub/Sub redelivers)."""
        return self.ingest_timeout_seconds - RESPONSE_MARGIN_SECONDS

    def check_ingest(self) -> None:
        """Refuses settings under which `ingest` could be cut off by its own timeout (the write
        goes on, the push fails: a stored row redelivered), or time out after Pub/Sub gave up."""
        needed = self.ingest_worst_seconds() + RESPONSE_MARGIN_SECONDS
        if needed > self.ingest_timeout_seconds:
            raise ConfigError(
                f"INGEST_TIMEOUT_SECONDS ({self.ingest_timeout_seconds:g}) must be at least {needed:g}: "
                f"INGEST_BATCH_WAIT_MS ({self.ingest_batch_wait_ms}) + "
                f"{'2 writes' if self.ingest_write_archive else '1 write'} of WRITE_BUDGET_SECONDS "
                f"({self.write_budget_seconds:g}) + {WRITE_OVERRUN_SECONDS:g} s each + {RESPONSE_MARGIN_SECONDS:g} s; "
                "raise the function timeout or lower WRITE_BUDGET_SECONDS"
            )
        if self.ingest_timeout_seconds > self.ack_deadline_seconds:
            raise ConfigError(
                f"ACK_DEADLINE_SECONDS ({self.ack_deadline_seconds:g}) must be at least INGEST_TIMEOUT_SECONDS "
                f"({self.ingest_timeout_seconds:g}): Pub/Sub would redeliver pushes still being processed"
            )

    def drain_store_worst_seconds(self) -> float:
        """The longest `drain` takes to store one batch: the archive, then BigQuery when asked."""
        writes = 2 if self.drain_write_bigquery else 1
        return writes * (self.write_budget_seconds + WRITE_OVERRUN_SECONDS)

    def check_drain(self) -> None:
        """Refuses settings under which a `drain` run could outlive its timeout (a batch stored,
        never acked) or hold a batch past its ack deadline (redelivered while being stored)."""
        cycle = PULL_TIMEOUT_SECONDS + WRITE_OVERRUN_SECONDS + self.drain_store_worst_seconds()
        cycle += ACK_TIMEOUT_SECONDS + WRITE_OVERRUN_SECONDS
        needed = self.drain_budget_seconds + cycle + RESPONSE_MARGIN_SECONDS
        if needed > self.drain_timeout_seconds:
            raise ConfigError(
                f"DRAIN_TIMEOUT_SECONDS ({self.drain_timeout_seconds:g}) must be at least {needed:g}: "
                f"DRAIN_BUDGET_SECONDS ({self.drain_budget_seconds:g}) + one last batch ({cycle:g} s: pull, "
                f"{'archive and BigQuery' if self.drain_write_bigquery else 'archive'} within WRITE_BUDGET_SECONDS "
                f"({self.write_budget_seconds:g}), ack) + {RESPONSE_MARGIN_SECONDS:g} s; lower DRAIN_BUDGET_SECONDS"
            )
        held = self.drain_store_worst_seconds() + ACK_TIMEOUT_SECONDS + WRITE_OVERRUN_SECONDS + RESPONSE_MARGIN_SECONDS
        if held > self.ack_deadline_seconds:
            raise ConfigError(
                f"ACK_DEADLINE_SECONDS ({self.ack_deadline_seconds:g}) must be at least {held:g}: a pulled batch "
                f"is stored within WRITE_BUDGET_SECONDS ({self.write_budget_seconds:g}) per write and then acked; "
                "raise the ack deadline or lower WRITE_BUDGET_SECONDS"
            )

    def syslog_options(self) -> syslog.Options:
        return syslog.Options(self.forward_facility, self.forward_max_message_bytes, self.forward_framing)


class _ForwardFields(TypedDict):
    forward_subscription: str | None
    forward_destination: SyslogDestination | None
    forward_ca_file: str | None
    forward_framing: syslog.Framing
    forward_facility: int
    forward_max_message_bytes: int
    forward_batch_size: int
    forward_budget_seconds: float
    forward_linger_seconds: float
    forward_send_timeout_seconds: float


def _forward_fields(env: Mapping[str, str], cls: type[Settings]) -> _ForwardFields:
    """The `forward` function's settings (FORWARD_*)."""
    framing = env.get("FORWARD_FRAMING") or cls.forward_framing
    if framing not in syslog.FRAMINGS:
        raise ConfigError(f"FORWARD_FRAMING must be one of {', '.join(syslog.FRAMINGS)}, not {framing!r}")
    chosen: syslog.Framing = "newline" if framing == "newline" else "octet-counting"
    destination = env.get("FORWARD_DESTINATION") or None
    return {
        "forward_subscription": env.get("FORWARD_SUBSCRIPTION") or None,
        "forward_destination": parse_destination(destination) if destination else None,
        "forward_ca_file": env.get("FORWARD_CA_FILE") or None,
        "forward_framing": chosen,
        "forward_facility": _facility(env.get("FORWARD_FACILITY", "").strip().lower()),
        "forward_max_message_bytes": _int(
            env, "FORWARD_MAX_MESSAGE_BYTES", cls.forward_max_message_bytes, syslog.MIN_MAX_BYTES, 1024 * 1024
        ),
        "forward_batch_size": _int(env, "FORWARD_BATCH_SIZE", cls.forward_batch_size, 1, 1000),
        "forward_budget_seconds": _float(env, "FORWARD_BUDGET_SECONDS", cls.forward_budget_seconds),
        "forward_linger_seconds": _float(env, "FORWARD_LINGER_SECONDS", cls.forward_linger_seconds, zero_ok=True),
        "forward_send_timeout_seconds": _float(env, "FORWARD_SEND_TIMEOUT_SECONDS", cls.forward_send_timeout_seconds),
    }


def parse_destination(text: str) -> SyslogDestination:
    """`syslog+tls://logs3.papertrailapp.com:12345` -> SyslogDestination; the port defaults to
    6514 (RFC 5425). Errors never repeat the value: with Papertrail, host and port are the secret."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ConfigError("FORWARD_DESTINATION must look like syslog+tls://host:port (bad port)") from None
    if parts.scheme not in ("syslog+tls", "syslog+tcp"):
        raise ConfigError(
            f"FORWARD_DESTINATION must start with syslog+tls:// or syslog+tcp://, not {parts.scheme or 'no'} scheme"
        )
    if not parts.hostname or parts.username or parts.password or parts.path not in ("", "/") or parts.query:
        raise ConfigError("FORWARD_DESTINATION must be syslog+tls://host:port, nothing more")
    return SyslogDestination(parts.scheme == "syslog+tls", parts.hostname, port if port is not None else 6514)


def _facility(raw: str) -> int:
    if raw == "":
        return syslog.DEFAULT_FACILITY
    if raw in syslog.FACILITIES:
        return syslog.FACILITIES[raw]
    if raw.isdigit() and int(raw) <= 23:
        return int(raw)
    raise ConfigError(f"FORWARD_FACILITY must be a facility name (user, daemon, local0...) or 0-23, not {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, not {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().upper()
    if raw == "":
        return default
    if raw not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw


def _float(env: Mapping[str, str], name: str, default: float, *, zero_ok: bool = False) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value < 0 or (value == 0 and not zero_ok):
        raise ConfigError(f"{name} must be {'zero or more' if zero_ok else 'positive'}, not {value}")
    return value
