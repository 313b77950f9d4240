"""The end-to-end fixtures: one LocalPipeline (its own emulator Stack plus functions-framework
serving `ingest` and `drain`) per test module, and the `E2E` helper around it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.emulators import ensure_installed
from local.pipeline import LocalPipeline
from tests.e2e.harness import E2E


@pytest.fixture(scope="module")
def pipeline(request: pytest.FixtureRequest) -> Iterator[LocalPipeline]:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        ensure_installed()  # a first run installs for a minute or so: show its progress
    with LocalPipeline() as running:
        yield running


@pytest.fixture(scope="module")
def e2e(pipeline: LocalPipeline) -> E2E:
    return E2E(pipeline)
