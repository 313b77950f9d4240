"""`python -m functions report` arguments: times and spans, and one-line usage errors."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from local.emulators import ROOT
from report.cli import UsageError, parse_time, time_range

NOW = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T09:00:00Z", datetime(2026, 11, 20, 9, tzinfo=UTC)),
        ("2026-11-20T10:00:00+01:00", datetime(2026, 11, 20, 9, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ("2026-11-20T09:00", datetime(2026, 11, 20, 9, tzinfo=UTC)),
        ("90m", datetime(2026, 11, 27, 21, 0, tzinfo=UTC)),
        ("24h", datetime(2026, 11, 26, 22, 30, tzinfo=UTC)),
        ("7d", datetime(2026, 11, 20, 22, 30, tzinfo=UTC)),
    ],
)
def test_times_and_spans(text: str, expected: datetime) -> None:
    assert parse_time(text, NOW) == expected


def test_since_as_a_span_counts_back_from_until() -> None:
    assert time_range("2h", "2026-11-20T12:00:00Z", NOW) == (
        datetime(2026, 11, 20, 10, tzinfo=UTC),
        datetime(2026, 11, 20, 12, tzinfo=UTC),
    )
    assert time_range("24h", None, NOW) == (datetime(2026, 11, 26, 22, 30, tzinfo=UTC), NOW)


@pytest.mark.parametrize(("since", "until"), [("yesterday", None), ("2026-11-21", "2026-11-20"), ("0m", None)])
def test_bad_ranges(since: str, until: str | None) -> None:
    with pytest.raises(UsageError):
        time_range(since, until, NOW)


def test_a_bad_time_is_one_line_and_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "functions", "report", "--since", "last tuesday"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "report: not a time: 'last tuesday' (use 2026-11-20T09:00:00Z, 2026-11-20, or a span such as 24h)"
    ]
