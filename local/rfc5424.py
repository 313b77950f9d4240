"""A strict reader of RFC 5424 syslog messages, written from the RFC's ABNF (section 6), and of
RFC 6587 octet-counted streams.

It checks what a receiver relies on and a lenient parser would forgive: PRI range, VERSION,
lengths and printable US-ASCII of the header fields, the TIMESTAMP grammar (at most six
fractional digits, a real date), SD-NAME characters, escapes in PARAM-VALUE and its UTF-8.
The tests check `forward`'s rendering against it, and the local receiver's file is read with it.
It is independent of functions/syslog.py on purpose: one writes, the other checks.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

NILVALUE = b"-"
_TIMESTAMP = re.compile(rb"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2}):(\d{2}))\Z")
_PRINTUSASCII = re.compile(rb"[\x21-\x7e]+\Z")
_SD_NAME = re.compile(rb"[\x21-\x7e]{1,32}\Z")
_SD_NAME_FORBIDDEN = frozenset(b'= ]"')


class SyslogSyntaxError(ValueError):
    """The bytes are not an RFC 5424 message; says where and why."""


@dataclass(frozen=True, slots=True)
class SyslogMessage:
    facility: int
    severity: int
    version: int
    timestamp: str | None
    hostname: str | None
    app_name: str | None
    procid: str | None
    msgid: str | None
    structured_data: dict[str, dict[str, str]] = field(default_factory=dict)
    msg: bytes | None = None

    @property
    def insert_id(self) -> str | None:
        """The insertId `forward` puts in its structured data element, whatever its SD-ID."""
        for params in self.structured_data.values():
            if "insertId" in params:
                return params["insertId"]
        return None


def parse(message: bytes) -> SyslogMessage:
    """One SYSLOG-MSG (no framing) -> its parts, or SyslogSyntaxError."""
    reader = _Reader(message)
    reader.expect(b"<")
    prival = reader.digits(1, 3, "PRIVAL")
    if int(prival) > 191 or (len(prival) > 1 and prival.startswith(b"0")):
        reader.fail(f"PRIVAL {prival.decode()} is not 0-191 without leading zeros")
    reader.expect(b">")
    version = reader.digits(1, 3, "VERSION")
    if version.startswith(b"0"):
        reader.fail("VERSION must start with a non-zero digit")
    reader.expect(b" ")
    timestamp = _timestamp(reader, reader.token("TIMESTAMP"))
    hostname = _header_field(reader, reader.token("HOSTNAME"), 255, "HOSTNAME")
    app_name = _header_field(reader, reader.token("APP-NAME"), 48, "APP-NAME")
    procid = _header_field(reader, reader.token("PROCID"), 128, "PROCID")
    msgid = _header_field(reader, reader.token("MSGID"), 32, "MSGID")
    structured_data = _structured_data(reader)
    msg = None
    if not reader.done():
        reader.expect(b" ")
        msg = reader.rest()
    return SyslogMessage(
        int(prival) // 8, int(prival) % 8, int(version), timestamp, hostname, app_name, procid, msgid,
        structured_data, msg,
    )  # fmt: skip


def split_octet_counted(stream: bytes) -> list[bytes]:
    """An RFC 6587 3.4.1 stream (`MSG-LEN SP SYSLOG-MSG`...) -> the messages; strict."""
    messages = []
    position = 0
    while position < len(stream):
        space = stream.find(b" ", position)
        length = stream[position:space]
        if space == -1 or not length.isdigit() or length.startswith(b"0"):
            raise SyslogSyntaxError(f"octet count expected at byte {position}: {stream[position : position + 12]!r}")
        start, end = space + 1, space + 1 + int(length)
        if end > len(stream):
            raise SyslogSyntaxError(
                f"frame at byte {position} announces {int(length)} bytes, {len(stream) - start} left"
            )
        messages.append(stream[start:end])
        position = end
    return messages


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def fail(self, why: str) -> None:
        raise SyslogSyntaxError(f"{why} (at byte {self.position} of {self.data[:120]!r})")

    def done(self) -> bool:
        return self.position >= len(self.data)

    def peek(self) -> int | None:
        return self.data[self.position] if self.position < len(self.data) else None

    def expect(self, literal: bytes) -> None:
        if not self.data.startswith(literal, self.position):
            self.fail(f"expected {literal!r}")
        self.position += len(literal)

    def digits(self, least: int, most: int, what: str) -> bytes:
        start = self.position
        while self.position < len(self.data) and self.data[self.position : self.position + 1].isdigit():
            self.position += 1
        found = self.data[start : self.position]
        if not least <= len(found) <= most:
            self.fail(f"{what} must be {least}-{most} digits")
        return found

    def token(self, what: str) -> bytes:
        """Up to the next space, which is consumed."""
        end = self.data.find(b" ", self.position)
        if end == -1:
            self.fail(f"{what} must be followed by a space")
        value = self.data[self.position : end]
        if not value:
            self.fail(f"{what} is empty (NILVALUE is '-')")
        self.position = end + 1
        return value

    def rest(self) -> bytes:
        value = self.data[self.position :]
        self.position = len(self.data)
        return value


def _timestamp(reader: _Reader, value: bytes) -> str | None:
    if value == NILVALUE:
        return None
    m = _TIMESTAMP.match(value)
    if m is None:
        reader.fail(f"TIMESTAMP {value!r} is not FULL-DATE T FULL-TIME with at most 6 fractional digits")
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        datetime.datetime(year, month, day, hour, minute, second)
        if m.group(9) is not None and not (int(m.group(9)) <= 23 and int(m.group(10)) <= 59):
            raise ValueError("offset")
    except ValueError:
        reader.fail(f"TIMESTAMP {value!r} is not a real date and time")
    return value.decode()


def _header_field(reader: _Reader, value: bytes, limit: int, what: str) -> str | None:
    if value == NILVALUE:
        return None
    if not _PRINTUSASCII.match(value):
        reader.fail(f"{what} {value!r} is not printable US-ASCII")
    if len(value) > limit:
        reader.fail(f"{what} is {len(value)} characters, more than {limit}")
    return value.decode("ascii")


def _structured_data(reader: _Reader) -> dict[str, dict[str, str]]:
    if reader.peek() == NILVALUE[0]:
        reader.position += 1
        if not (reader.done() or reader.peek() == ord(" ")):
            reader.fail("NILVALUE structured data must be followed by a space or the end")
        return {}
    elements: dict[str, dict[str, str]] = {}
    if reader.peek() != ord("["):
        reader.fail("STRUCTURED-DATA must be '-' or start with '['")
    while reader.peek() == ord("["):
        reader.position += 1
        sd_id = _sd_name(reader, "SD-ID")
        if "@" in sd_id:
            name, _, number = sd_id.partition("@")
            if not name or not number.isdigit():
                reader.fail(f"SD-ID {sd_id!r} must be name@<private enterprise number>")
        if sd_id in elements:
            reader.fail(f"SD-ID {sd_id!r} appears twice (RFC 5424 6.3.2)")
        params: dict[str, str] = {}
        while reader.peek() == ord(" "):
            reader.position += 1
            name = _sd_name(reader, "PARAM-NAME")
            reader.expect(b'="')
            params[name] = _param_value(reader)
        reader.expect(b"]")
        elements[sd_id] = params
    return elements


def _sd_name(reader: _Reader, what: str) -> str:
    start = reader.position
    while (byte := reader.peek()) is not None and 0x21 <= byte <= 0x7E and byte not in _SD_NAME_FORBIDDEN:
        reader.position += 1
    value = reader.data[start : reader.position]
    if not _SD_NAME.match(value):
        reader.fail(f'{what} must be 1-32 printable US-ASCII characters except = ] " and space')
    return value.decode("ascii")


def _param_value(reader: _Reader) -> str:
    out = bytearray()
    while True:
        byte = reader.peek()
        if byte is None:
            reader.fail("PARAM-VALUE is not closed by '\"'")
            break
        reader.position += 1
        if byte == ord('"'):
            break
        if byte == ord("]"):
            reader.fail("']' inside PARAM-VALUE must be escaped")
        if byte == ord("\\") and reader.peek() in (ord('"'), ord("\\"), ord("]")):
            out.append(reader.data[reader.position])
            reader.position += 1
            continue
        out.append(byte)
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        reader.fail("PARAM-VALUE is not UTF-8")
        return ""
