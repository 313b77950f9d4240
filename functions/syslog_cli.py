"""`python -m functions syslog FILE...`: what `forward` would send, before deploying it.

Reads LogEntry JSON lines (a file exported from the Logs Explorer, `gcloud logging read
--format=json` flattened to one entry per line, or Pub/Sub message data) and prints, for each
input line in order, the message under newline framing on one line, or `# skipped: REASON
(DETAIL)`. FORWARD_FACILITY and FORWARD_MAX_MESSAGE_BYTES apply as in `forward`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterator
from typing import Any, BinaryIO

from functions import syslog
from functions.config import ConfigError, Settings

HELP = "print, for each LogEntry JSON line, the syslog message forward would send (newline framing)"


def add_parser(commands: Any) -> None:
    """Adds the `syslog` command to the CLI's subparsers."""
    parser = commands.add_parser("syslog", help=HELP, description=__doc__)
    parser.add_argument("files", nargs="*", help="input files (standard input when none)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        options = dataclasses.replace(Settings.from_env().syslog_options(), framing="newline")
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    try:
        for line in _lines(args.files):
            rendered = syslog.render_data(line, options)
            if rendered.message is None:
                out.write(f"# skipped: {rendered.skipped} ({rendered.detail})\n".encode())
            else:
                out.write(syslog.frame(rendered.message, "newline"))
        out.flush()
    except BrokenPipeError:  # `... | head`: the reader has all it wants
        sys.stderr.close()
    return 0


def _lines(files: list[str]) -> Iterator[bytes]:
    """Each line without its line ending, streamed: a large export is never held in memory."""
    streams: list[BinaryIO] = [open(f, "rb") for f in files] if files else [sys.stdin.buffer]  # noqa: SIM115
    for stream in streams:
        with stream:
            for line in stream:
                yield line.rstrip(b"\r\n")
