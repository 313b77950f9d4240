"""The reliability fixtures: one fault-injectable pipeline (local/reliability.py) per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.emulators import ensure_installed
from local.reliability import Reliability, faulty_pipeline


@pytest.fixture(scope="module")
def run(request: pytest.FixtureRequest) -> Iterator[Reliability]:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        ensure_installed()  # a first run installs for a minute or so: show its progress
    with faulty_pipeline() as running:
        yield running
