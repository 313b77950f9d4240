"""`python -m functions report`: the traffic of a time range as one HTML page.

    python -m functions report --since 24h --out report.html
    python -m functions report --since 2026-11-20 --until 2026-11-21

Reads BigQuery where GOOGLE_CLOUD_PROJECT, BIGQUERY_DATASET, BIGQUERY_TABLE and
BIGQUERY_ERROR_TABLE say (the local emulator when BIGQUERY_EMULATOR_HOST is set), through
the table functions Terraform creates; `--install-functions` creates them first (for the
emulator, or a stack deployed with deploy/gcloud-deploy.sh). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from functions.config import Settings

_RELATIVE = re.compile(r"(\d+)([mhd])\Z")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class UsageError(ValueError):
    """A bad argument, reported as one line."""


def add_parser(commands: Any) -> None:
    """Adds `report` to the CLI's subparsers (python -m functions report)."""
    parser = commands.add_parser("report", help="write the traffic of a time range as an HTML page")
    parser.set_defaults(run=run)
    parser.add_argument(
        "--since",
        default="24h",
        help="start (included): RFC 3339 time, a date, or a span before --until such as 90m, 24h, 7d (default 24h)",
    )
    parser.add_argument("--until", default=None, help="end (excluded): RFC 3339 time or a date (default: now)")
    parser.add_argument("--out", default="report.html", type=Path, help="the HTML file to write (default report.html)")
    parser.add_argument(
        "--install-functions",
        action="store_true",
        help="create or replace the report's table functions first (Terraform creates them otherwise)",
    )


def parse_time(text: str, now: datetime) -> datetime:
    """`2026-11-20T09:00:00Z`, `2026-11-20T10:00:00+01:00`, `2026-11-20` (midnight UTC), or a
    span such as `24h` meaning that long before `now`."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        return now - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"not a time: {text!r} (use 2026-11-20T09:00:00Z, 2026-11-20, or a span such as 24h)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def time_range(since: str, until: str | None, now: datetime) -> tuple[datetime, datetime]:
    end = parse_time(until, now) if until else now
    start = parse_time(since, end)
    if start >= end:
        raise UsageError(f"--since ({start:%Y-%m-%dT%H:%M:%SZ}) must be before --until ({end:%Y-%m-%dT%H:%M:%SZ})")
    return start, end


def run(args: argparse.Namespace) -> int:
    from google.api_core.exceptions import GoogleAPIError  # noqa: PLC0415  # heavy: only when run
    from google.auth.exceptions import GoogleAuthError  # noqa: PLC0415

    from functions.config import ConfigError, Settings  # noqa: PLC0415
    from sinks.report import MissingQuestionError  # noqa: PLC0415

    try:
        since, until = time_range(args.since, args.until, datetime.now(UTC))
        out = write(Settings.from_env(), since, until, args.out, install_functions=args.install_functions)
    except (UsageError, ConfigError, MissingQuestionError) as error:
        print(f"report: {error}", file=sys.stderr)
        return 2 if isinstance(error, UsageError) else 1
    except (GoogleAPIError, GoogleAuthError) as error:  # no credentials, no access, a bad dataset
        print(f"report: BigQuery: {str(error).splitlines()[0]}", file=sys.stderr)
        return 1
    print(out.resolve())
    return 0


def write(settings: Settings, since: datetime, until: datetime, out: Path, install_functions: bool = False) -> Path:
    """Queries the questions for [since, until) and writes the page to `out` (also for `make demo`)."""
    from report import html  # noqa: PLC0415
    from sinks.report import ReportSource  # noqa: PLC0415

    started = time.monotonic()
    source = ReportSource(settings)
    if install_functions:
        source.install()
    answers = source.answers(since, until)
    where = source.where
    origin = f"local emulator {settings.bigquery_emulator_host}, " if settings.bigquery_emulator_host else ""
    context = html.Context(since, until, f"BigQuery ({origin}{where.project}.{where.dataset})", datetime.now(UTC))
    page = html.render(answers, context)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    size = len(page.encode()) / 1024
    print(f"report: wrote {out} ({size:.0f} KiB) in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return out
