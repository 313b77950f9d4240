"""The FORWARD_* settings of functions/config.py: what `forward` accepts and what it refuses."""

from __future__ import annotations

import pytest

from functions import syslog
from functions.config import ConfigError, Settings, SyslogDestination, parse_destination


def test_defaults_are_papertrails_rules_over_tls() -> None:
    settings = Settings.from_env({})
    assert settings.forward_destination is None
    assert settings.forward_framing == "octet-counting"  # RFC 5425's framing for syslog over TLS
    assert settings.forward_facility == syslog.FACILITIES["user"]
    assert settings.forward_max_message_bytes == 100_000
    assert (settings.forward_batch_size, settings.forward_budget_seconds, settings.forward_linger_seconds) == (
        1000, 50.0, 0.0,
    )  # fmt: skip
    assert settings.syslog_options() == syslog.Options(1, 100_000, "octet-counting")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("syslog+tls://logs3.papertrailapp.com:12345", SyslogDestination(True, "logs3.papertrailapp.com", 12345)),
        ("syslog+tcp://relay.internal:514", SyslogDestination(False, "relay.internal", 514)),
        ("syslog+tls://relay.internal", SyslogDestination(True, "relay.internal", 6514)),  # RFC 5425's port
        (" syslog+tls://[2001:db8::7]:6514/ ", SyslogDestination(True, "2001:db8::7", 6514)),
    ],
)
def test_destinations(text: str, expected: SyslogDestination) -> None:
    assert parse_destination(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "logs3.papertrailapp.com:12345",  # no scheme: TLS must be asked for, never assumed away
        "tls://logs3.papertrailapp.com:12345",
        "syslog://logs3.papertrailapp.com:12345",
        "syslog+tls://logs3.papertrailapp.com:99999",
        "syslog+tls://:12345",
        "syslog+tls://user:secret@logs3.papertrailapp.com:12345",
        "syslog+tls://logs3.papertrailapp.com:12345/path",
        "syslog+tls://logs3.papertrailapp.com:12345?x=1",
    ],
)
def test_bad_destinations_are_refused_without_echoing_the_secret(text: str) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"FORWARD_DESTINATION": text})
    assert "12345" not in str(refused.value) and "secret" not in str(refused.value)


def test_the_destination_is_not_in_the_settings_repr() -> None:
    settings = Settings.from_env({"FORWARD_DESTINATION": "syslog+tls://logs3.papertrailapp.com:12345"})
    assert "papertrail" not in repr(settings) and "12345" not in repr(settings)


@pytest.mark.parametrize(("raw", "code"), [("local0", 16), ("LOCAL7", 23), ("daemon", 3), ("0", 0), ("23", 23)])
def test_facility_by_name_or_number(raw: str, code: int) -> None:
    assert Settings.from_env({"FORWARD_FACILITY": raw}).forward_facility == code


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FORWARD_FACILITY", "24"),
        ("FORWARD_FACILITY", "local8"),
        ("FORWARD_FRAMING", "lf"),
        ("FORWARD_MAX_MESSAGE_BYTES", "2047"),
        ("FORWARD_MAX_MESSAGE_BYTES", str(1024 * 1024 + 1)),
        ("FORWARD_BATCH_SIZE", "1001"),
        ("FORWARD_BUDGET_SECONDS", "0"),
        ("FORWARD_LINGER_SECONDS", "-1"),
        ("FORWARD_SEND_TIMEOUT_SECONDS", "soon"),
    ],
)
def test_out_of_range_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_newline_framing_linger_and_timeout() -> None:
    settings = Settings.from_env(
        {"FORWARD_FRAMING": "newline", "FORWARD_LINGER_SECONDS": "45", "FORWARD_SEND_TIMEOUT_SECONDS": "2.5"}
    )
    assert (settings.forward_framing, settings.forward_linger_seconds, settings.forward_send_timeout_seconds) == (
        "newline", 45.0, 2.5,
    )  # fmt: skip


@pytest.mark.parametrize("zero", ["0", "0.0", ""])
def test_linger_zero_means_stop_at_the_first_empty_pull(zero: str) -> None:
    assert Settings.from_env({"FORWARD_LINGER_SECONDS": zero}).forward_linger_seconds == 0.0
