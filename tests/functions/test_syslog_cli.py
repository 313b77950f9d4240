"""`python -m functions syslog`, run as a user runs it before deploying `forward`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from functions import syslog
from local import entries as fx
from local import rfc5424

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, stdin: bytes = b"", **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "functions", "syslog", *args],
        input=stdin, capture_output=True, cwd=ROOT, check=False, env={**os.environ, **env},
    )  # fmt: skip


def test_one_line_per_input_line_in_order_skips_included(tmp_path: Path) -> None:
    multiline = fx.gke_container("first\nsecond")
    lines = [fx.data(fx.load_balancer()), b"", b"{broken", fx.data(multiline) + b"\r", b"[1]", fx.data(fx.cloud_run())]
    path = tmp_path / "entries.jsonl"
    path.write_bytes(b"\n".join(lines))  # no final newline: the last line still counts
    done = _cli(str(path))
    assert done.returncode == 0, done.stderr
    out = done.stdout.split(b"\n")
    assert out.pop() == b""
    assert len(out) == len(lines)
    assert out[1] == b"# skipped: no_data (the message data is empty)"
    assert out[2] == b"# skipped: not_json (message data is not JSON)"
    assert out[4].startswith(b"# skipped: not_logentry (")
    for index in (0, 3, 5):
        assert rfc5424.parse(out[index]).insert_id == "1a2b3c4d5e6f"
    assert out[3].endswith(b"] first#012second")  # newline framing: line feeds escaped
    assert out[0].endswith(
        b"] GET 200 25.41 KB 12 ms Go-http-client/1.1 https://blog.example.com/posts/hello-world?utm_source=feed"
    )


def test_standard_input_and_the_forward_settings() -> None:
    done = _cli(stdin=fx.data(fx.gen1_function()) + b"\n", FORWARD_FACILITY="local7", FORWARD_FRAMING="octet-counting")
    assert done.returncode == 0, done.stderr
    got = rfc5424.parse(done.stdout.rstrip(b"\n"))
    assert (got.facility, got.severity) == (23, 7)
    long_text = fx.variant(fx.gen1_function(), textPayload="x" * 10_000)
    done = _cli(stdin=fx.data(long_text), FORWARD_MAX_MESSAGE_BYTES=str(syslog.MIN_MAX_BYTES))
    assert len(done.stdout) <= syslog.MIN_MAX_BYTES + 1  # the message and its line feed
    assert b"[truncated: " in done.stdout


def test_bad_settings_exit_2_with_the_reason() -> None:
    done = _cli(stdin=b"", FORWARD_FACILITY="nonsense")
    assert done.returncode == 2
    assert b"FORWARD_FACILITY" in done.stderr
