"""The one definition of the processor's configuration, read from environment variables.

Every knob is documented in the README's configuration reference; `Settings.from_env`
takes a mapping so that tests and the local demo can build settings without touching
`os.environ`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

WriteMethod = Literal["storage_write", "insert_all"]

DEFAULT_MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # Pub/Sub's own limit for one message


class ConfigError(ValueError):
    """A configuration value is missing or malformed: a deployment mistake, not bad data."""


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
    drain_budget_seconds: float = 240.0
    write_budget_seconds: float = 30.0
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES

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
        )


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


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, not {value}")
    return value
