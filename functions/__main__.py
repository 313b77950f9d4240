"""Command line: `python -m functions parse` to try logs before deploying,
`python -m functions schemas` to regenerate the Terraform schema files, and
`python -m functions report` to write the traffic report (report/cli.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import BinaryIO

import orjson

from functions import pipeline
from functions.message import Message
from functions.outcome import Outcome
from functions.schema import write_schema_files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m functions", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    parse = commands.add_parser("parse", help="read items, one per line, and print one JSON outcome per line")
    parse.add_argument("files", nargs="*", help="input files (standard input when none)")
    mode = parse.add_mutually_exclusive_group()
    mode.add_argument("--lines", action="store_true", help="each line is a raw access-log line (a textPayload)")
    mode.add_argument("--base64", action="store_true", help="each line is base64 Pub/Sub message data")
    commands.add_parser("schemas", help="write terraform/schemas/<table>.json from functions/schema.py")
    from report import cli as report_cli  # noqa: PLC0415  # argparse only; the report's imports are lazy

    report_cli.add_arguments(commands.add_parser("report", help="write the traffic of a time range as an HTML page"))
    args = parser.parse_args(argv)
    if args.command == "report":
        return report_cli.run(args)
    if args.command == "schemas":
        for path in write_schema_files():
            print(path)
        return 0
    out = sys.stdout.buffer
    try:
        for line in _input_lines(args.files):
            out.write(orjson.dumps(_describe(_parse_line(line, args.lines, args.base64))) + b"\n")
        out.flush()
    except BrokenPipeError:  # `... | head`: the reader has all it wants
        sys.stderr.close()
    return 0


def _input_lines(files: list[str]) -> Iterator[bytes]:
    streams: list[BinaryIO] = [open(f, "rb") for f in files] if files else [sys.stdin.buffer]  # noqa: SIM115
    for stream in streams:
        with stream:
            content = stream.read()
        if not content:
            continue
        lines = content.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        yield from (line[:-1] if line.endswith(b"\r") else line for line in lines)


def _parse_line(line: bytes, raw_lines: bool, base64: bool) -> Outcome:
    if raw_lines:
        text = line.decode("utf-8", "backslashreplace")
        entry = {"textPayload": text}
        return pipeline.classify(Message(data=line), orjson.dumps(entry), entry)
    return pipeline.process(Message(data=line, data_is_base64=base64))


def _describe(outcome: Outcome) -> dict[str, object]:
    return {"outcome": outcome.kind, "row": outcome.row, "reason": outcome.reason, "message": outcome.detail}


if __name__ == "__main__":
    sys.exit(main())
