"""Session fixtures shared by every test package: the local emulator stack (local/emulators.py).

Only tests that ask for `stack` start it (once per session); mark them `@pytest.mark.emulators`
so that `pytest -m "not emulators"` runs the pure core alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local import syslog_receiver
from local.emulators import Stack, ensure_installed


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        ensure_installed()  # a first run installs for a minute or so: show its progress
    with Stack(tmp_path_factory.mktemp("emulators")) as running:
        yield running


@pytest.fixture(scope="session")
def syslog_tls(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[syslog_receiver.SyslogReceiver]:
    """A local rsyslog receiving syslog over TLS (local/syslog_receiver.py), for the whole session."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        rsyslogd = syslog_receiver.ensure_installed()  # a first run installs rsyslog: show its progress
    receiver = syslog_receiver.SyslogReceiver(tmp_path_factory.mktemp("syslog"), rsyslogd)
    receiver.start()
    yield receiver
    receiver.stop()
