"""The emulator harness itself: what it starts is what it holds, and what it stops is gone."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from local.emulators import Stack, ensure_installed

pytestmark = pytest.mark.emulators


def test_env_points_at_loopback_ports(stack: Stack) -> None:
    env = stack.env()
    assert env["PUBSUB_EMULATOR_HOST"] == stack.pubsub.host
    assert env["BIGQUERY_EMULATOR_HOST"] == stack.bigquery.host
    assert env["BIGQUERY_STORAGE_EMULATOR_HOST"] == stack.bigquery.grpc_host
    assert env["STORAGE_EMULATOR_HOST"] == f"http://{stack.gcs.host}"
    assert all(e.host.startswith("127.0.0.1:") for e in stack.emulators)
    with urllib.request.urlopen(f"http://{stack.pubsub.host}/", timeout=5) as response:
        assert response.read().strip() == b"Ok"


def test_the_pid_held_is_the_servers_own(stack: Stack) -> None:
    pid = stack.pubsub.pid
    assert pid is not None
    assert Path(f"/proc/{pid}/comm").read_text().strip() == "java"  # the launcher script exec'd java


def test_second_install_is_instant() -> None:
    started = time.monotonic()
    ensure_installed()
    assert time.monotonic() - started < 2


def test_stop_ends_exactly_the_process_started_and_restart_reuses_the_port(stack: Stack) -> None:
    gcs = stack.gcs
    pid, port = gcs.pid, gcs.port
    gcs.stop()
    assert not Path(f"/proc/{pid}").exists()
    gcs.restart()
    assert gcs.port == port and gcs.running and gcs.pid != pid
