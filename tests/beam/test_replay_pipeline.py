"""The Beam replay (beam/replay_pipeline.py) on the DirectRunner, in its own venv, against the
emulators: it must leave the same tables as the one-machine replay, row for row."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.schema import ERRORS, HTTP_REQUESTS
from local.beam_env import ensure_beam_venv
from local.emulators import ROOT, Stack
from sinks.replay import Progress, replay
from tests.sinks.conftest import Destinations
from tests.sinks.replay_archive import DAYS, dataset_tables, table_rows, write_archive

pytestmark = pytest.mark.emulators


@pytest.fixture(scope="module")
def beam_python(request: pytest.FixtureRequest) -> Iterator[Path]:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        python = ensure_beam_venv()  # a first run installs for a minute or two: show its progress
    yield python


def test_beam_and_the_one_machine_replay_leave_the_same_tables(stack: Stack, beam_python: Path) -> None:
    dest = Destinations(stack)
    older = write_archive(dest)  # one archive, two destinations holding the older reading's rows
    one_machine = Destinations(dest.stack, bucket=dest.bucket)
    for each in (dest, one_machine):
        each.sink().ensure()
        each.sink().write(older)
    assert table_rows(dest, HTTP_REQUESTS) == table_rows(one_machine, HTTP_REQUESTS)

    replay(one_machine.settings(), bucket=dest.bucket, prefix="logs", days=list(DAYS), progress=Progress(io.StringIO()))
    done = subprocess.run(
        [
            str(beam_python),
            "-m",
            "beam.replay_pipeline",
            "--from",
            DAYS[0],
            "--to",
            DAYS[1],
            "--runner",
            "DirectRunner",
        ],
        check=False,
        env=dest.env(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 days replaced, 22 objects, 30 entries, 26 rows" in done.stderr, done.stderr[-3000:]

    rows = table_rows(dest, HTTP_REQUESTS)
    assert rows == table_rows(one_machine, HTTP_REQUESTS)
    assert sum(r["source"] == "envoy" for r in rows) == 6, "the new reading's rows"
    assert table_rows(dest, ERRORS) == table_rows(one_machine, ERRORS)
    assert dataset_tables(dest) == ["errors", "http_requests", "http_requests_dedup"], "staging dropped"
