"""The end-to-end fixtures: one LocalPipeline (its own emulator Stack plus functions-framework
serving `ingest` and `drain`) per test module, and the `E2E` helper around it.

The BigQuery write method is the module's `WRITE_METHOD` when it sets one, else
`$E2E_WRITE_METHOD`, else `storage_write` (the default, as deployed): `E2E_WRITE_METHOD=insert_all`
runs the whole suite against BigQuery's legacy streaming inserts."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from local.emulators import ensure_installed
from local.harness import E2E
from local.pipeline import LocalPipeline


@pytest.fixture(scope="module")
def pipeline(request: pytest.FixtureRequest) -> Iterator[LocalPipeline]:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        ensure_installed()  # a first run installs for a minute or so: show its progress
    method = getattr(request.module, "WRITE_METHOD", None) or os.environ.get("E2E_WRITE_METHOD", "storage_write")
    with LocalPipeline(write_method=method) as running:
        yield running


@pytest.fixture(scope="module")
def e2e(pipeline: LocalPipeline) -> E2E:
    return E2E(pipeline)
