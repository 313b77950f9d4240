"""Command line: `python -m functions parse` to try logs before deploying, `syslog` to see what
`forward` would send, `replay`/`redrive` to re-derive rows and return dead letters, `report` to
write the traffic report (report/cli.py), and `schemas` to regenerate the files Terraform reads."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

import orjson

from functions import pipeline, raw_line, replay_cli, syslog_cli
from functions.message import Message
from functions.outcome import Outcome
from functions.schema import write_schema_files
from functions.views import write_view_files
from report import cli as report_cli


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse", help="read items, one per line, and print one JSON outcome per line")
    parse.add_argument("files", nargs="*", help="input files (standard input when none)")
    mode = parse.add_mutually_exclusive_group()
    mode.add_argument("--lines", action="store_true", help="each line is a raw access-log line (a textPayload)")
    mode.add_argument("--base64", action="store_true", help="each line is base64 Pub/Sub message data")
    parse.set_defaults(run=_parse)
    schemas = commands.add_parser(
        "schemas",
        help="write terraform/schemas/<table>.json (functions/schema.py) and terraform/sql/<view>.sql (functions/views.py)",
    )
    schemas.set_defaults(run=_schemas)
    # The commands that talk to Google Cloud import their clients only when they run.
    syslog_cli.add_parser(commands)
    replay_cli.add_parsers(commands)
    report_cli.add_parser(commands)
    args = parser.parse_args(argv)
    status: int = args.run(args)
    return status


def _schemas(args: argparse.Namespace) -> int:
    for path in [*write_schema_files(), *write_view_files()]:
        print(path)
    return 0


def _parse(args: argparse.Namespace) -> int:
    unreadable = _first_unreadable(args.files)
    if unreadable is not None:
        print(f"python -m functions parse: error: {unreadable}", file=sys.stderr)
        return 2
    out = sys.stdout.buffer
    try:
        for line in _input_lines(args.files):
            out.write(
                orjson.dumps(_describe(_parse_line(line, args.lines, args.base64)), option=orjson.OPT_APPEND_NEWLINE)
            )
        out.flush()
    except BrokenPipeError:  # `... | head`: the reader has all it wants
        sys.stderr.close()
    except OSError as e:  # a file that went away or failed mid-read
        print(f"python -m functions parse: error: {e}", file=sys.stderr)
        return 1
    return 0


def _first_unreadable(files: list[str]) -> str | None:
    """Checked before the first output line, so that a typo does not cut a run in the middle."""
    for name in files:
        try:
            with open(name, "rb"):
                pass
        except OSError as e:
            return f"cannot read {name!r}: {e.strerror or e}"
    return None


def _input_lines(files: list[str]) -> Iterator[bytes]:
    """One line at a time, whatever the file's size: memory holds one line, not the file."""
    names: list[str | None] = [*files] if files else [None]
    for name in names:
        with open(name, "rb") if name is not None else sys.stdin.buffer as stream:
            for raw in stream:
                line = raw[:-1] if raw.endswith(b"\n") else raw
                yield line[:-1] if line.endswith(b"\r") else line


def _parse_line(line: bytes, raw_lines: bool, base64: bool) -> Outcome:
    if raw_lines:
        entry = raw_line.as_logentry(line.decode("utf-8", "backslashreplace"))
        return pipeline.classify(Message(data=line), orjson.dumps(entry), entry)
    return pipeline.process(Message(data=line, data_is_base64=base64))


def _describe(outcome: Outcome) -> dict[str, object]:
    return {"outcome": outcome.kind, "row": outcome.row, "reason": outcome.reason, "message": outcome.detail}


if __name__ == "__main__":
    sys.exit(main())
