"""The emulator harness without emulators: what a failed start leaves behind (local/emulators.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local.emulators import Emulator


class Missing(Emulator):
    """An emulator whose executable does not exist: Popen itself fails."""

    name = "missing"

    def command(self) -> list[str]:
        return [str(self.state_dir / "no-such-emulator"), "--port", str(self.port)]

    def ready(self) -> bool:
        return False


class ExitsAtOnce(Missing):
    name = "exits"

    def command(self) -> list[str]:
        return ["/bin/sh", "-c", "echo starting; exit 3"]


def open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_start_that_cannot_spawn_closes_its_log_file(tmp_path: Path) -> None:
    emulator = Missing(tmp_path)
    before = open_files()
    for _ in range(3):
        with pytest.raises(OSError):
            emulator.start(timeout=5)
    assert open_files() == before
    assert "no-such-emulator" in emulator.log_path.read_text()  # the attempt is in the log all the same
    emulator.stop()  # and stopping what never started is harmless


def test_a_process_that_exits_while_starting_closes_its_log_file(tmp_path: Path) -> None:
    emulator = ExitsAtOnce(tmp_path)
    before = open_files()
    with pytest.raises(Exception, match="exited with status 3"):
        emulator.start(timeout=5)
    assert open_files() == before
    assert "starting" in emulator.log_path.read_text()
