"""RFC 3339 timestamps in the one form BigQuery accepts everywhere: UTC, microseconds, `Z`.

Anything else (no such day, an offset beyond ±23:59, a moment outside 0001-9999 once in UTC)
is None: a TIMESTAMP column cannot hold it.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta

# What Cloud Logging writes: UTC, `Z`. Days past 28 take the slow path, which knows month lengths.
_CANONICAL = re.compile(
    r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.(\d{1,9}))?Z\Z", re.ASCII
)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])([01]\d|2[0-3]):([0-5]\d))\Z",
    re.ASCII,
)
# Apache's and nginx's `%t` / `$time_local`: 10/Oct/2000:13:55:36 -0700
_ACCESS_LOG = re.compile(r"(\d{2})/([A-Z][a-z]{2})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])([01]\d|2[0-3])([0-5]\d)\Z")
_MONTHS = {
    m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)
}


def normalize(value: object) -> str | None:
    """`2024-01-01T10:00:00.123456789+02:00` -> `2024-01-01T08:00:00.123456Z`; None when invalid.

    LogEntry timestamps carry nanoseconds; BigQuery keeps microseconds, so the rest is
    truncated (not rounded, so that a timestamp never moves into the next second).
    """
    if type(value) is not str:
        return None
    # What Cloud Logging writes, `2024-01-01T10:00:00.123456789Z`: the fraction checked here,
    # the second through a cache, since entries arriving together share their seconds.
    if len(value) > 20 and value[-1] == "Z" and value[19] == ".":
        fraction = value[20:-1]
        if len(fraction) <= 9 and fraction.isdigit() and fraction.isascii() and canonical_second(value[:19]):
            return value[:20] + (fraction + "00000")[:6] + "Z"
    fast = _CANONICAL.match(value)
    if fast is not None and value[:4] != "0000":
        fraction = fast.group(1) or ""
        return f"{value[:19]}.{fraction[:6]:0<6}Z"
    m = _RFC3339.match(value)
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = m.groups()
    micros = int((frac or "0")[:6].ljust(6, "0"))
    offset = None if zulu else timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    return _utc(int(year), int(month), int(day), int(hour), int(minute), int(second), micros, offset)


@functools.lru_cache(maxsize=4096)
def canonical_second(text: str) -> bool:
    """`2024-01-01T10:00:00` is a second that needs no conversion (days past 28 take the slow path)."""
    return _CANONICAL.match(text + "Z") is not None and text[:4] != "0000"


def from_access_log(value: str) -> str | None:
    """`10/Oct/2000:13:55:36 -0700` (Apache `%t`, nginx `$time_local`) -> `2000-10-10T20:55:36.000000Z`."""
    m = _ACCESS_LOG.match(value)
    if m is None or m.group(2) not in _MONTHS:
        return None
    day, month, year, hour, minute, second, sign, off_h, off_m = m.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    return _utc(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), 0, offset)


def _utc(
    year: int, month: int, day: int, hour: int, minute: int, second: int, micros: int, offset: timedelta | None
) -> str | None:
    try:
        moment = datetime(year, month, day, hour, minute, min(second, 59), micros, UTC)
        if offset:
            moment -= offset
    except (ValueError, OverflowError):  # no such day, or outside 0001-9999 once in UTC
        return None
    return format_utc(moment)


def format_utc(moment: datetime) -> str:
    """Four-digit years always (strftime's %Y drops the zeros before year 1000)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def from_epoch(seconds: int, nanos: int) -> str:
    """A protobuf Timestamp in the normalised form (microseconds, truncated like `normalize`)."""
    return f"{_second_text(seconds)}.{nanos // 1000:06d}Z"


@functools.lru_cache(maxsize=4096)  # the messages of a pull share a few seconds
def _second_text(seconds: int) -> str:
    return format_utc(datetime.fromtimestamp(seconds, UTC))[:19]


def now() -> str:
    return format_utc(datetime.now(UTC))


_SECOND = re.compile(r"(\d{4}-\d\d-\d\d)T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)\Z")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def micros(normalized: object) -> int | None:
    """Microseconds since the epoch of a timestamp in `normalize`'s output form; None for any
    other value. Rows carry timestamps normalised once, by the parser: this only converts them."""
    if type(normalized) is not str or len(normalized) != 27 or normalized[19] != "." or normalized[26] != "Z":
        return None
    fraction = normalized[20:26]
    seconds = _epoch_seconds(normalized[:19])
    if seconds is None or not (fraction.isascii() and fraction.isdigit()):
        return None
    return seconds * 1_000_000 + int(fraction)


@functools.lru_cache(maxsize=8192)  # the entries of a batch share a few minutes of seconds
def _epoch_seconds(second: str) -> int | None:
    """`YYYY-MM-DDTHH:MM:SS` -> seconds since the epoch."""
    m = _SECOND.match(second)
    if m is None:
        return None
    day, hour, minute, sec = m.groups()
    try:
        days = date.fromisoformat(day).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None
    return days * 86_400 + int(hour) * 3600 + int(minute) * 60 + int(sec)
