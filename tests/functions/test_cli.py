"""`python -m functions parse` and `schemas`, run as a user runs them."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from functions import __main__ as cli
from functions import logentry
from functions.schema import TABLES, write_schema_files
from local import entries as fx

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, stdin: bytes) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "functions", *args], input=stdin, capture_output=True, cwd=ROOT, check=True
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_one_output_per_input_line_in_order_blank_lines_included() -> None:
    lines = [fx.data(fx.load_balancer()), b"", b"{broken", fx.data(fx.gen1_function())]
    out = _cli("parse", stdin=b"\n".join(lines) + b"\n")
    assert [o["outcome"] for o in out] == ["http", "error", "error", "other"]
    assert [o["reason"] for o in out] == [None, "not_json", "not_json", None]
    assert isinstance(out[0]["row"], dict)
    assert out[0]["row"]["status"] == 200  # a JSON number
    assert out[3]["row"] is None


def test_lines_mode_reads_raw_access_lines_including_crlf_and_non_utf8() -> None:
    stdin = (
        fx.NGINX_COMBINED.encode()
        + b"\r\n"
        + b'1.2.3.4 - - [20/Nov/2026:09:15:02 +0000] "GET /caf\xe9 HTTP/1.1" 200 1\n\n'
    )
    out = _cli("parse", "--lines", stdin=stdin)
    assert [o["outcome"] for o in out] == ["http", "http", "other"]
    rows = [o["row"] for o in out[:2]]
    assert isinstance(rows[0], dict) and rows[0]["user_agent"].endswith("AppleWebKit/537.36")
    assert isinstance(rows[1], dict) and rows[1]["url"] == "/caf\\xe9"


def test_base64_mode_and_files(tmp_path: Path) -> None:
    path = tmp_path / "messages.txt"
    path.write_bytes(base64.b64encode(fx.data(fx.cloud_run())) + b"\nnot_base_64\n")
    out = _cli("parse", "--base64", str(path), stdin=b"")
    assert [(o["outcome"], o["reason"]) for o in out] == [("http", None), ("error", "bad_base64")]


def test_usage_errors_exit_non_zero() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "functions", "parse", "--lines", "--base64"], check=False, capture_output=True, cwd=ROOT
    )
    assert done.returncode == 2


@pytest.mark.parametrize("name", ["no-such-file.log", "."])
def test_an_unreadable_file_is_one_clear_line_and_nothing_on_stdout(tmp_path: Path, name: str) -> None:
    good = tmp_path / "good.log"
    good.write_text(fx.NGINX_COMBINED + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "functions", "parse", "--lines", str(good), name],
        check=False, capture_output=True, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode().splitlines() == [
        f"python -m functions parse: error: cannot read {name!r}: "
        + ("No such file or directory" if name != "." else "Is a directory")
    ]


def test_lines_mode_stamps_each_row_with_the_lines_own_time() -> None:
    lines = [fx.APACHE_COMMON, fx.ENVOY_DEFAULT, "not an access line"]
    out = _cli("parse", "--lines", stdin="\n".join(lines).encode() + b"\n")
    rows = [o["row"] for o in out]
    assert isinstance(rows[0], dict) and rows[0]["timestamp"] == "2026-10-10T20:55:36.000000Z"  # -0700 in UTC
    assert isinstance(rows[1], dict) and rows[1]["timestamp"] == "2026-11-20T09:15:02.123000Z"
    assert out[2]["outcome"] == "other"


def test_memory_stays_bounded_whatever_the_file_size(tmp_path: Path) -> None:
    """96 MiB of input in 1 MiB lines: the CLI holds a line at a time, not the file
    (reading it whole took more than the file's size)."""
    big = tmp_path / "big.log"
    with big.open("wb") as f:
        for i in range(96):
            f.write(b"%d " % i + b"x" * (1024 * 1024) + b"\n")
    done = subprocess.run(
        [sys.executable, "-c", MEASURED_CLI, "parse", "--lines", str(big)], cwd=ROOT, capture_output=True, check=True
    )
    assert [json.loads(line)["outcome"] for line in done.stdout.splitlines()] == ["other"] * 96
    peak_kib = int(done.stderr.decode().split()[-2])
    assert peak_kib < 64 * 1024, f"peak RSS {peak_kib // 1024} MiB"


# Runs the CLI and prints its own peak RSS (VmHWM, of this program only: a child's rusage
# would also count the memory of the process it was forked from).
MEASURED_CLI = """
import runpy, sys
sys.argv = ["functions", *sys.argv[1:]]
try:
    runpy.run_module("functions", run_name="__main__")
finally:
    print(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")), file=sys.stderr)
"""


def test_terraform_schema_files_are_fresh(tmp_path: Path) -> None:
    """Fails when functions/schema.py changed without `make schemas`."""
    written = write_schema_files(tmp_path)
    assert [p.name for p in written] == [f"{t.name}.json" for t in TABLES]
    for path in written:
        committed = ROOT / "terraform" / "schemas" / path.name
        assert committed.read_text() == path.read_text(), f"{committed} is stale: run `make schemas`"


def test_hostile_lines_each_give_one_strict_json_outcome_and_no_traceback() -> None:
    poison = fx.variant(fx.load_balancer(), httpRequest={"requestUrl": "/", "status": 200,
                                                          "latency": {"seconds": "9" * 400}})  # fmt: skip
    lines = [
        fx.data(poison),
        fx.data(
            fx.variant(fx.load_balancer(), httpRequest={"requestUrl": "/", "status": 200, "latency": "9" * 400 + "s"})
        ),
        fx.data(fx.variant(fx.load_balancer(), httpRequest={"requestUrl": "/", "status": "-9999999999999999999"})),
        b'{"logName": [], "resource": "x", "httpRequest": [1]}',
        "é".encode(),
    ]
    done = subprocess.run(
        [sys.executable, "-m", "functions", "parse"], input=b"\n".join(lines) + b"\n", capture_output=True, cwd=ROOT,
        check=False,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, b"")
    assert len(done.stdout.splitlines()) == len(lines)
    for line in done.stdout.splitlines():
        json.loads(line, parse_constant=lambda name: pytest.fail(f"{name} is not strict JSON"))


def test_parse_never_prints_a_traceback_even_when_a_parser_raises(
    monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    """A parser bug (forced here: no input is known to raise any more) gives an internal_error line."""

    def boom(entry: object) -> None:
        raise ValueError("a parser bug")

    monkeypatch.setattr(logentry, "find_request", boom)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(fx.NGINX_COMBINED.encode() + b"\n")))
    assert cli.main(["parse", "--lines"]) == 0
    captured = capsysbinary.readouterr()
    (line,) = captured.out.splitlines()
    assert json.loads(line)["reason"] == "internal_error"
    assert b"Traceback" not in captured.err
