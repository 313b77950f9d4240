"""The Beam replay's own virtualenv, `.tools/beam` (git-ignored), from beam/requirements-beam.txt.

Apache Beam is big (~0.8 GB, ~1.5 minutes to install) and never deployed with the functions, so
it lives apart from `.venv`. `make beam-venv`, the Beam tests and bench/replay.py call
`ensure_beam_venv()`; a marker holding the requirement files' hash makes a second call instant.

    python -m local.beam_env     # install (or check) and print the venv's python
"""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
import time
from pathlib import Path

from local.emulators import ROOT

BEAM_VENV = ROOT / ".tools" / "beam"
REQUIREMENTS = (ROOT / "beam" / "requirements-beam.txt", ROOT / "requirements.txt")


def _pins() -> str:
    return hashlib.sha256(b"".join(path.read_bytes() for path in REQUIREMENTS)).hexdigest()


def ensure_beam_venv() -> Path:
    """The Beam venv's python, installing or updating the venv first when its pins changed."""
    python = BEAM_VENV / "bin" / "python"
    marker = BEAM_VENV / ".installed"
    BEAM_VENV.parent.mkdir(parents=True, exist_ok=True)
    with (BEAM_VENV.parent / ".beam-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file() and marker.read_text() == _pins() and python.exists():
            return python
        print(f"[beam] installing {REQUIREMENTS[0].relative_to(ROOT)} into {BEAM_VENV.relative_to(ROOT)} "
              "(~0.8 GB, a minute or two)", file=sys.stderr, flush=True)  # fmt: skip
        started = time.monotonic()
        log = BEAM_VENV.parent / "install-beam.log"
        with log.open("ab") as out:
            if not python.exists():
                subprocess.run([sys.executable, "-m", "venv", str(BEAM_VENV)], check=True, stdout=out, stderr=out)
            pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
            done = subprocess.run([*pip, "-r", str(REQUIREMENTS[0])], check=False, stdout=out, stderr=out)
        if done.returncode != 0:
            raise RuntimeError(f"installing the Beam venv failed ({done.returncode}): see {log}")
        marker.write_text(_pins())
        print(f"[beam] ready in {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
        return python


if __name__ == "__main__":
    print(ensure_beam_venv())
