"""Settings.from_env (functions/config.py): defaults, parsing and refusals."""

from __future__ import annotations

import pytest

from functions.config import ConfigError, Settings
from local.pipeline import FUNCTION_SETTINGS


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


def test_default_budgets_nest_for_both_functions_in_every_write_mode() -> None:
    for env in ({}, {"DRAIN_WRITE_BIGQUERY": "true"}, {"INGEST_BATCH_WAIT_MS": "1000"}):
        settings = Settings.from_env(env)
        settings.check_ingest()
        settings.check_drain()


@pytest.mark.parametrize(
    ("env", "check", "named"),
    [
        # The micro-batch wait and the write budget must fit in the function's timeout...
        ({"WRITE_BUDGET_SECONDS": "59"}, "check_ingest", "INGEST_TIMEOUT_SECONDS"),
        ({"INGEST_WRITE_ARCHIVE": "true"}, "check_ingest", "INGEST_TIMEOUT_SECONDS"),
        # ...which must fit in the push ack deadline, else Pub/Sub redelivers what is in progress.
        ({"INGEST_TIMEOUT_SECONDS": "180"}, "check_ingest", "ACK_DEADLINE_SECONDS"),
        # drain: the budget, one last pull + store + ack, within its timeout...
        ({"DRAIN_BUDGET_SECONDS": "280"}, "check_drain", "DRAIN_TIMEOUT_SECONDS"),
        ({"DRAIN_BUDGET_SECONDS": "230", "DRAIN_WRITE_BIGQUERY": "true"}, "check_drain", "DRAIN_TIMEOUT_SECONDS"),
        # ...and a pulled batch stored and acked within its ack deadline.
        ({"ACK_DEADLINE_SECONDS": "30", "INGEST_TIMEOUT_SECONDS": "30"}, "check_drain", "ACK_DEADLINE_SECONDS"),
    ],
)
def test_budgets_that_cannot_nest_are_refused_naming_the_knob(env: dict[str, str], check: str, named: str) -> None:
    settings = Settings.from_env(env)
    with pytest.raises(ConfigError, match=named):
        getattr(settings, check)()


def test_each_check_concerns_its_own_function() -> None:
    """A drain-only mistake does not stop ingest from serving, and the other way round."""
    Settings.from_env({"DRAIN_BUDGET_SECONDS": "280"}).check_ingest()
    Settings.from_env({"INGEST_WRITE_ARCHIVE": "true"}).check_drain()


def test_the_local_pipeline_settings_nest() -> None:
    """What the e2e and reliability runs give the function servers."""
    settings = Settings.from_env(FUNCTION_SETTINGS)
    settings.check_ingest()
    settings.check_drain()


def test_log_level_is_one_of_the_known_names() -> None:
    assert Settings.from_env({"LOG_LEVEL": "debug"}).log_level == "DEBUG"
    with pytest.raises(ConfigError, match="LOG_LEVEL"):
        Settings.from_env({"LOG_LEVEL": "verbose"})
