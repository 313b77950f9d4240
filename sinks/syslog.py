"""Sends a batch of framed syslog messages over one TLS (or plain TCP) connection, and returns
only once the receiver has read all of it.

Syslog over TCP has no acknowledgements (RELP has, but Papertrail does not speak it), so a
finished `sendall` proves only that the bytes reached our kernel: a receiver that dies then
loses them. Before a batch counts as delivered this waits until:

1. the receiver's TCP has acknowledged every byte (Linux: the socket's send queue is empty);
2. after our TLS close_notify (or TCP FIN), the receiver closes its side. A receiver closes
   cleanly only after reading everything before our close: closing with unread data sends a
   reset, which fails the batch. rsyslog answers a close_notify with a bare TCP close.

A receiver that keeps the connection open after our close_notify gets `CLOSE_WAIT_SECONDS`;
the batch then counts as delivered on step 1 alone (`Delivery.confirmed` is False).

Any failure raises `SyslogError`: the caller hands the whole batch back to Pub/Sub. Messages the
receiver had already read are then sent again; the insertId in each message's structured data
tells a reader they are the same entry.
"""

from __future__ import annotations

import fcntl
import os
import socket
import ssl
import struct
import termios
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from functions.config import SyslogDestination
from sinks.errors import DestinationError, RetryableError

CHUNK_BYTES = 256 * 1024  # frames are written in chunks of about this size
CLOSE_WAIT_SECONDS = 2.0
_SEND_QUEUE_POLL_SECONDS = 0.002
# Linux: bytes of a TCP socket's send queue the peer has not acknowledged yet (SIOCOUTQ).
_TIOCOUTQ: int | None = getattr(termios, "TIOCOUTQ", None)


class SyslogError(RetryableError):
    """The batch may not have been read by the receiver: ack none of it."""


class SyslogRefusedError(SyslogError, DestinationError):
    """The receiver cannot be trusted or reached as configured (certificate, TLS): retrying
    within this run does not help, redelivery after the deployment is fixed does."""


@dataclass(frozen=True, slots=True)
class Delivery:
    messages: int
    bytes: int
    seconds: float
    confirmed: bool  # the receiver closed after reading all; False: only its TCP acknowledged all


class SyslogSender:
    """One connection per `send`; one batch at a time (forward runs one loop)."""

    def __init__(self, destination: SyslogDestination, *, ca_file: str | None = None, timeout: float = 10.0) -> None:
        self.destination = destination
        self.timeout = timeout
        self._context = _tls_context(ca_file) if destination.tls else None

    @property
    def where(self) -> str:
        """The destination as errors show it: the host only (Papertrail's port identifies the account)."""
        return f"{'TLS' if self.destination.tls else 'TCP'} syslog receiver {self.destination.host}"

    def send(self, frames: Sequence[bytes]) -> Delivery:
        started = time.monotonic()
        stream = self._connect()
        try:
            size = self._write(stream, frames)
            confirmed = self._close(stream)
        except (OSError, ssl.SSLError) as e:
            raise SyslogError(f"sending {len(frames)} messages to the {self.where} failed: {_describe(e)}") from e
        finally:
            stream.close()
        return Delivery(len(frames), size, time.monotonic() - started, confirmed)

    def _connect(self) -> socket.socket:
        try:
            raw = socket.create_connection((self.destination.host, self.destination.port), timeout=self.timeout)
        except OSError as e:
            raise SyslogError(f"cannot connect to the {self.where}: {_describe(e)}") from e
        if self._context is None:
            return raw
        try:
            return self._context.wrap_socket(raw, server_hostname=self.destination.host)
        except ssl.SSLCertVerificationError as e:
            raw.close()
            raise SyslogRefusedError(f"the {self.where} failed TLS verification: {e.verify_message}") from e
        except (OSError, ssl.SSLError) as e:
            raw.close()
            raise SyslogError(f"TLS handshake with the {self.where} failed: {_describe(e)}") from e

    @staticmethod
    def _write(stream: socket.socket, frames: Sequence[bytes]) -> int:
        size = 0
        chunk = bytearray()
        for frame in frames:
            chunk += frame
            if len(chunk) >= CHUNK_BYTES:
                stream.sendall(chunk)
                size += len(chunk)
                chunk.clear()
        if chunk:
            stream.sendall(chunk)
            size += len(chunk)
        return size

    def _close(self, stream: socket.socket) -> bool:
        """Steps 1 and 2 of the module docstring; True when the receiver closed after reading."""
        _wait_acknowledged(stream, time.monotonic() + self.timeout)
        stream.settimeout(min(CLOSE_WAIT_SECONDS, self.timeout))
        try:
            if isinstance(stream, ssl.SSLSocket):
                # Our close_notify, then the receiver's, or (rsyslog) its bare TCP close.
                with suppress(ssl.SSLEOFError):
                    stream.unwrap()
                return True
            stream.shutdown(socket.SHUT_WR)
            while stream.recv(4096):  # a syslog receiver sends nothing; read until it closes
                pass
            return True
        except TimeoutError:
            return False


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificate and hostname verification always on: the system CAs, or only `ca_file`
    (a private relay's CA bundle) when given."""
    context = ssl.create_default_context(cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _wait_acknowledged(stream: socket.socket, deadline: float) -> None:
    """Until the peer's TCP has acknowledged every byte we wrote (Linux only; elsewhere a no-op)."""
    if _TIOCOUTQ is None:
        return
    while True:
        try:
            pending = struct.unpack("i", fcntl.ioctl(stream.fileno(), _TIOCOUTQ, b"\0\0\0\0"))[0]
        except OSError:
            return  # not a Linux TCP socket: nothing to wait on
        if pending == 0:
            return
        error = stream.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if error:  # e.g. a reset: the receiver is gone and the queue will never drain
            raise ConnectionError(error, os.strerror(error))
        if time.monotonic() > deadline:
            raise TimeoutError(f"the receiver did not acknowledge the last {pending} bytes")
        time.sleep(_SEND_QUEUE_POLL_SECONDS)


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
