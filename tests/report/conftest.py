"""The demo's traffic in the BigQuery emulator, and the report written from it by the CLI.

The story is local/sample.py's (what `make demo` publishes), put through the real core
(functions.pipeline) and written by the real sink into a dataset of its own on the session's
local-bigquery; only the Pub/Sub leg of the demo is skipped, to keep the test fast. The
requests are spread over the last hour, so the error rows (stamped when they are processed,
now) fall in the same report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from functions.config import Settings
from functions.message import Message
from functions.outcome import Outcome
from functions.pipeline import process
from local import browser
from local.emulators import ROOT, Stack
from local.sample import SPAN_SECONDS, story
from sinks.bigquery import BigQuerySink
from sinks.clients import make_bigquery_client
from sinks.report import ReportSource

if TYPE_CHECKING:
    from playwright.sync_api import Page


@dataclass(frozen=True)
class Demo:
    env: dict[str, str]
    settings: Settings
    outcomes: list[Outcome]
    since: datetime
    until: datetime
    report: Path

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Runs SQL on the demo's dataset (`{d}` stands for `project.dataset`)."""
        client = make_bigquery_client(self.settings)
        dataset = f"`{self.settings.project}.{self.settings.bigquery_dataset}`"
        return [dict(row.items()) for row in client.query(sql.replace("{d}", dataset)).result()]


def report_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "functions", "report", *args],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def demo(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Demo:
    env = {**stack.env(), "BIGQUERY_DATASET": f"report_{uuid.uuid4().hex[:10]}"}
    settings = Settings.from_env(env)
    sink = BigQuerySink(settings)
    sink.ensure()
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(seconds=SPAN_SECONDS)
    outcomes = [
        process(Message(data=item.payload, message_id=f"demo-{n}", publish_time=None))
        for n, item in enumerate(story(start=start))
    ]
    report = sink.write(outcomes)
    assert (report.rows, report.error_rows) == (400, 4)
    ReportSource(settings, progress=lambda _: None).install()
    until = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2)
    out = tmp_path_factory.mktemp("report") / "report.html"
    since_text, until_text = (f"{t:%Y-%m-%dT%H:%M:%SZ}" for t in (start, until))
    result = report_command(env, "--since", since_text, "--until", until_text, "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out.resolve())
    return Demo(env, settings, outcomes, start, until, out)


@pytest.fixture(scope="module")
def page(request: pytest.FixtureRequest) -> Iterator[Page]:
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        browser.ensure()  # a first run installs the Debian package: show its progress
    with browser.page() as opened:
        yield opened
