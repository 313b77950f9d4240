"""A real syslog receiver for `forward`: Debian's rsyslog with GnuTLS, on loopback, over TLS.

It stands in for Papertrail (or any rsyslog / syslog-ng relay) the way the emulators stand in for
Google's services: the function under test opens a real TLS connection, verifies a real
certificate, and the receiver writes every message it reads, one per line, to `received.log`.

- Installed from Debian (`rsyslog`, `rsyslog-gnutls`) when missing and we are root; otherwise
  the error names the packages to install. apt does not start a system rsyslogd here
  (policy-rc.d denies it in containers), and nothing here uses one: each receiver is our own
  `rsyslogd -n` with its own configuration, PID file and work directory.
- Its CA and a certificate for 127.0.0.1 are made here with `cryptography` (already a
  dependency of google-auth), so a client verifies them exactly as it verifies Papertrail's.
- It listens on a free unprivileged port of 127.0.0.1, is stopped by the PID we started, and a
  restart keeps its port and appends to the same file (the fault tests need both).

    python -m local.syslog_receiver install     # install what is missing
    python -m local.syslog_receiver up          # start a TLS receiver, print where, wait for Ctrl-C
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import sys
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from local import rfc5424
from local.emulators import (
    INSTALL_DIR,
    LOOPBACK,
    Emulator,
    EmulatorError,
    MissingPrerequisiteError,
    _install_lock,
    _progress,
    _run_dir,
    _run_logged,
)

PACKAGES = ("rsyslog", "rsyslog-gnutls")
RSYSLOGD_CANDIDATES = (Path("/usr/sbin/rsyslogd"), Path("/sbin/rsyslogd"))
GTLS_MODULE_GLOBS = ("/usr/lib/*/rsyslog/lmnsd_gtls.so", "/usr/lib/rsyslog/lmnsd_gtls.so")
# Papertrail takes up to 100,000 bytes per TCP message; rsyslog's default limit is 8 KiB.
MAX_MESSAGE_SIZE = "256k"
APT_LOCK_TIMEOUT_SECONDS = 300


def find_rsyslogd() -> Path | None:
    """rsyslogd, when both it and its GnuTLS network driver are installed."""
    daemon = next((p for p in RSYSLOGD_CANDIDATES if p.is_file()), None)
    has_gtls = any(Path("/").glob(pattern.lstrip("/")) for pattern in GTLS_MODULE_GLOBS)
    return daemon if daemon is not None and has_gtls else None


def ensure_installed() -> Path:
    """rsyslogd with TLS support: found, or installed from Debian when we may (root, apt-get)."""
    found = find_rsyslogd()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise MissingPrerequisiteError(
            f"rsyslog with TLS is not installed: install the Debian packages {' and '.join(PACKAGES)} "
            f"(apt-get install -y {' '.join(PACKAGES)}), needed by the local syslog receiver"
        )
    with _install_lock():
        found = find_rsyslogd()
        if found is not None:
            return found
        log = INSTALL_DIR / "install-rsyslog.log"
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        apt = ["apt-get", "-o", f"DPkg::Lock::Timeout={APT_LOCK_TIMEOUT_SECONDS}", "-q"]
        _progress(f"installing {' and '.join(PACKAGES)} from Debian (apt-get, ~30 s)")
        try:
            _run_logged([*apt, "install", "-y", "--no-install-recommends", *PACKAGES], log, env)
        except EmulatorError:
            _progress("apt-get install failed; updating the package lists and trying again")
            _run_logged([*apt, "update"], log, env)
            _run_logged([*apt, "install", "-y", "--no-install-recommends", *PACKAGES], log, env)
        found = find_rsyslogd()
        if found is None:
            raise EmulatorError(f"{' and '.join(PACKAGES)} installed but rsyslogd or its GnuTLS driver is missing")
        _progress("rsyslog ready")
        return found


def make_certificates(directory: Path, common_name: str = "logexport local syslog CA") -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost signed by it:
    (ca.pem, server.pem, server.key). Valid for a day; regenerated for every receiver."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK)), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return ca_path, cert_path, key_path


class SyslogReceiver(Emulator):
    """One `rsyslogd -n` listening on 127.0.0.1: TLS (the default) or plain TCP.

    Everything it reads goes to `received_path`, one message per line, exactly as received
    (`%rawmsg%`; rsyslog escapes control characters inside a message as `#ooo`). Its own
    diagnostics go to `rsyslog.log` beside it, never into the received file.
    """

    name = "rsyslog"

    def __init__(self, state_dir: Path, rsyslogd: Path, port: int | None = None, *, tls: bool = True) -> None:
        super().__init__(state_dir, port)
        self.rsyslogd = rsyslogd
        self.tls = tls
        self.directory = state_dir / ("syslog-tls" if tls else "syslog-tcp")
        self.received_path = self.directory / "received.log"
        self.config_path = self.directory / "rsyslog.conf"
        self.log_path = self.directory / "rsyslog.log"
        self._read_offset = 0  # by_insert_id parses each line once
        self._by_insert_id: dict[str | None, list[bytes]] = {}
        self.ca_path, self.cert_path, self.key_path = (
            self.directory / "ca.pem",
            self.directory / "server.pem",
            self.directory / "server.key",
        )

    @property
    def destination(self) -> str:
        """FORWARD_DESTINATION for this receiver."""
        return f"syslog+{'tls' if self.tls else 'tcp'}://{self.host}"

    def command(self) -> list[str]:
        return [str(self.rsyslogd), "-n", "-f", str(self.config_path), "-i", str(self.directory / "rsyslogd.pid")]

    def launch(self) -> None:
        if not self.running:
            self._write_config()
        super().launch()

    def _write_config(self) -> None:
        work = self.directory / "work"
        work.mkdir(parents=True, exist_ok=True)
        if self.tls and not self.ca_path.exists():  # a restart keeps the certificates clients trust
            make_certificates(self.directory)
        driver = (
            f'DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="{self.ca_path}"\n'
            f'       DefaultNetstreamDriverCertFile="{self.cert_path}" DefaultNetstreamDriverKeyFile="{self.key_path}"'
            if self.tls
            else ""
        )
        stream = ' StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon"' if self.tls else ""
        self.config_path.write_text(
            f"# Written by local/syslog_receiver.py for one local receiver; not a system configuration.\n"
            f'global(workDirectory="{work}" maxMessageSize="{MAX_MESSAGE_SIZE}"\n'
            f"       {driver})\n"
            f'module(load="imtcp"{stream})\n'
            f'template(name="raw" type="string" string="%rawmsg%\\n")\n'
            f'ruleset(name="received") {{\n'
            f'  action(type="omfile" file="{self.received_path}" template="raw")\n'
            f"}}\n"
            f'input(type="imtcp" port="{self.port}" address="{LOOPBACK}" ruleset="received")\n'
        )

    def ready(self) -> bool:
        try:
            with socket.create_connection((LOOPBACK, self.port), timeout=1.0) as raw:
                if not self.tls:
                    return True
                context = ssl.create_default_context(cafile=str(self.ca_path))
                with context.wrap_socket(raw, server_hostname=LOOPBACK) as tls, suppress(ssl.SSLEOFError):
                    tls.unwrap()  # close_notify, so rsyslog logs no error; it answers with a bare EOF
                return True
        except (OSError, ssl.SSLError):
            return False

    def env(self) -> dict[str, str]:
        """What `forward` needs to reach this receiver."""
        env = {"FORWARD_DESTINATION": self.destination}
        if self.tls:
            env["FORWARD_CA_FILE"] = str(self.ca_path)
        return env

    def received(self) -> list[bytes]:
        """Every line received so far, in the order written."""
        try:
            content = self.received_path.read_bytes()
        except FileNotFoundError:
            return []
        lines = content.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        return lines

    def by_insert_id(self) -> dict[str | None, list[bytes]]:
        """Every received line, read strictly as RFC 5424 (a line that is not fails loudly),
        grouped by the insertId in its structured data."""
        try:
            with self.received_path.open("rb") as received:
                received.seek(self._read_offset)
                new = received.read()
        except FileNotFoundError:
            new = b""
        complete = new[: new.rfind(b"\n") + 1]  # a line still being written waits for the next call
        self._read_offset += len(complete)
        for line in complete.split(b"\n")[:-1]:
            self._by_insert_id.setdefault(rfc5424.parse(line).insert_id, []).append(line)
        return {key: list(lines) for key, lines in self._by_insert_id.items()}

    def wait_for(self, insert_ids: Iterable[str], timeout: float = 30.0) -> dict[str | None, list[bytes]]:
        """Waits until every insertId was received at least once; returns all lines by insertId."""
        wanted = set(insert_ids)
        deadline = time.monotonic() + timeout
        while True:
            found = self.by_insert_id()
            missing = wanted - found.keys()
            if not missing:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(missing)} insertIds not received within {timeout:.0f} s, e.g. {sorted(missing)[:5]}"
                )
            time.sleep(0.1)


def _up() -> None:
    rsyslogd = ensure_installed()
    state = _run_dir() / "syslog-up"
    shutil.rmtree(state, ignore_errors=True)
    receiver = SyslogReceiver(state, rsyslogd)
    receiver.start()
    try:
        for key, value in sorted(receiver.env().items()):
            print(f"export {key}={value}")
        print(f"# received messages are written to {receiver.received_path}; Ctrl-C stops rsyslogd", flush=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        with suppress(KeyboardInterrupt):
            signal.pause()
    finally:
        receiver.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.syslog_receiver", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("install", "up"))
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            print(ensure_installed())
        else:
            _up()
    except EmulatorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
