"""Settings.from_env (functions/config.py): defaults, parsing and refusals."""

from __future__ import annotations

import pytest

from functions.config import ConfigError, Settings


def test_defaults_from_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert (settings.bigquery_dataset, settings.bigquery_table, settings.bigquery_error_table) == (
        "logs", "http_requests", "errors",
    )  # fmt: skip
    assert (settings.bigquery_write_method, settings.archive_prefix, settings.ingest_batch_wait_ms) == (
        "storage_write", "logs", 20,
    )  # fmt: skip
    assert settings.project is None and settings.storage_emulator_host is None
    assert (settings.drain_write_bigquery, settings.ingest_write_archive) == (False, False)


def test_values_are_parsed() -> None:
    settings = Settings.from_env({
        "GOOGLE_CLOUD_PROJECT": "p", "BIGQUERY_WRITE_METHOD": "insert_all", "ARCHIVE_PREFIX": "/raw/logs/",
        "DRAIN_BATCH_SIZE": "250", "DRAIN_WRITE_BIGQUERY": "TRUE", "WRITE_BUDGET_SECONDS": "2.5",
        "STORAGE_EMULATOR_HOST": "http://127.0.0.1:4443", "BIGQUERY_STORAGE_EMULATOR_HOST": "127.0.0.1:9060",
        "INGEST_BATCH_WAIT_MS": "0",
    })  # fmt: skip
    assert (settings.project, settings.bigquery_write_method, settings.archive_prefix) == (
        "p",
        "insert_all",
        "raw/logs",
    )
    assert (settings.drain_batch_size, settings.drain_write_bigquery, settings.write_budget_seconds) == (250, True, 2.5)
    assert settings.storage_emulator_host == "http://127.0.0.1:4443"
    assert settings.bigquery_storage_emulator_host == "127.0.0.1:9060"
    assert settings.ingest_batch_wait_ms == 0


@pytest.mark.parametrize(
    ("name", "value"),
    [("BIGQUERY_WRITE_METHOD", "streaming"), ("DRAIN_BATCH_SIZE", "5000"), ("DRAIN_BATCH_SIZE", "many"),
     ("WRITE_BUDGET_SECONDS", "-1"), ("DRAIN_WRITE_BIGQUERY", "maybe"), ("INGEST_BATCH_WAIT_MS", "2000")],
)  # fmt: skip
def test_malformed_values_are_refused_with_the_variable_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
