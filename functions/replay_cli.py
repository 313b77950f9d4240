"""`python -m functions replay` and `python -m functions redrive`: the commands that talk to Google
Cloud (or the emulators), kept apart from the offline `parse` so that they load the sinks only
when run. Destination and emulator settings come from the environment (functions/config.py).
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

import orjson

from functions.config import ConfigError, Settings
from functions.replay import ReplayError, days_between


def add_parsers(commands: Any) -> None:
    """Adds `replay` and `redrive` to the CLI's subparsers."""
    replay = commands.add_parser(
        "replay",
        help="re-derive the BigQuery rows of whole days from the archive and replace them",
        description="Reads the archive objects of the days, runs every LogEntry through the same code as the "
        "live functions, and replaces each day's rows in one BigQuery transaction (idempotent). The destination "
        "is BIGQUERY_DATASET / BIGQUERY_TABLE / BIGQUERY_ERROR_TABLE in GOOGLE_CLOUD_PROJECT.",
    )
    replay.add_argument("--bucket", help="archive bucket (default: $ARCHIVE_BUCKET)")
    replay.add_argument("--prefix", help="archive prefix (default: $ARCHIVE_PREFIX, else logs)")
    replay.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD (UTC)")
    replay.add_argument("--to", dest="last", help="last day, inclusive (default: --from)")
    replay.add_argument("--log", action="append", dest="log_ids", help="only this log id, e.g. requests (repeatable)")
    replay.add_argument("--dry-run", action="store_true", help="read and count, print rows now vs after, write nothing")
    replay.add_argument(
        "--allow-live-days", action="store_true", help="replay days that may still receive live rows (see --settle)"
    )
    replay.add_argument(
        "--settle-minutes",
        type=float,
        default=60.0,
        help="a day counts as live until this long after it ended, and while it has rows published this recently (60)",
    )
    replay.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    replay.set_defaults(run=run)
    redrive = commands.add_parser(
        "redrive",
        help="move messages from a dead-letter subscription back to a topic",
        description="Pulls the dead-letter subscription, republishes each message (data and attributes) to the "
        "topic and acks it only once the publish succeeded.",
    )
    redrive.add_argument(
        "--subscription", required=True, help="dead-letter subscription (projects/P/subscriptions/S or S)"
    )
    redrive.add_argument("--topic", required=True, help="topic to republish to (projects/P/topics/T or T)")
    redrive.add_argument(
        "--max-messages", type=int, help="stop after this many (default: until the subscription is empty)"
    )
    redrive.add_argument("--dry-run", action="store_true", help="count what would move; ack nothing, hand it all back")
    redrive.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from google.api_core.exceptions import GoogleAPICallError

    try:
        settings = Settings.from_env()
        return _replay(args, settings) if args.command == "replay" else _redrive(args, settings)
    except (ConfigError, ReplayError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except GoogleAPICallError as e:  # a missing bucket or dataset, no permission: say which, no traceback
        print(f"error: {e}", file=sys.stderr)
        return 1


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from sinks.replay import format_report, replay

    report = replay(
        settings,
        bucket=args.bucket or settings.archive_bucket or "",
        prefix=settings.archive_prefix if args.prefix is None else args.prefix.strip("/"),
        days=days_between(args.first, args.last or args.first),
        log_ids=args.log_ids,
        dry_run=args.dry_run,
        allow_live_days=args.allow_live_days,
        settle=timedelta(minutes=args.settle_minutes),
    )
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(report.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print(format_report(report))
    return 0


def _redrive(args: argparse.Namespace, settings: Settings) -> int:
    from google.cloud import pubsub_v1  # type: ignore[attr-defined]  # untyped package

    from sinks.pubsub import Puller
    from sinks.redrive import redrive

    if args.max_messages is not None and args.max_messages < 1:
        raise ConfigError("--max-messages must be at least 1")
    summary = redrive(
        Puller(_path(args.subscription, "subscriptions", settings)),
        pubsub_v1.PublisherClient(),
        _path(args.topic, "topics", settings),
        max_messages=args.max_messages,
        dry_run=args.dry_run,
    )
    sys.stdout.buffer.write(orjson.dumps(summary.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    return 1 if summary.failure else 0


def _path(name: str, kind: str, settings: Settings) -> str:
    if name.startswith("projects/"):
        return name
    if not settings.project:
        raise ConfigError(f"give the full projects/P/{kind}/NAME or set GOOGLE_CLOUD_PROJECT")
    return f"projects/{settings.project}/{kind}/{name}"
