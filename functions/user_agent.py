"""User-agent columns of a request row: browser, OS, device class and a bot flag.

Read with maintained lists, not patterns of our own:
- browser, OS and device: the uap-core regexes (`ua-parser`, with its Rust resolver `ua-parser-rs`);
- bot: JayBizzle's Crawler-Detect list (`crawlerdetect`): crawlers, HTTP libraries and probes
  such as curl, Go-http-client, kube-probe and GoogleHC. Its 1,462 patterns are matched as the
  library matches them (its exclusions removed first, then any pattern found), but with RE2
  (`google-re2`, linear time) instead of the library's one Python alternation: 0.3-1 ms for
  a browser's new agent became 12-50 µs (bench/user_agent.py). Two more signals from uap-core
  count as a bot: its "Spider" device, and a client it recognises as no browser and no OS at
  all. The second catches probes neither list names (Prometheus, Google-Cloud-Scheduler,
  custom scripts): every real browser is known to uap-core.

`ua_device` maps uap-core's OS and device names onto five classes (`desktop`, `mobile`,
`tablet`, `bot`, `other`: TVs, consoles, unknown); the tables below are that whole mapping.

Cost: both libraries load on first use, not at import (cold start of main.py), and each distinct
user-agent string is classified once per instance (an LRU cache): a site sees few distinct
agents, so nearly every row is a cache hit (bench/user_agent.py measures both).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ua_parser import Device, Result

# Only this much of a header is read: real agents are far shorter, and the cache and the
# bot list's regex should not pay for a megabyte of junk.
MAX_CLASSIFIED_CHARS = 1024
CACHE_SIZE = 8192

COLUMNS = ("ua_browser", "ua_os", "ua_device", "is_bot")
_UNKNOWN = "Other"  # uap-core's name for "no rule matched"

_MOBILE_OS = frozenset(("iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS", "HarmonyOS"))
_DESKTOP_OS = frozenset(
    ("Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "Debian", "FreeBSD", "OpenBSD", "NetBSD")
)
_TABLET_DEVICE_FAMILIES = frozenset(("iPad",))
_TABLET_DEVICE_BRANDS = frozenset(("Generic_Android_Tablet",))
_PHONE_DEVICE_MODELS = frozenset(("Smartphone", "Feature Phone"))  # uap-core's "Generic" brand models

_NO_AGENT: dict[str, Any] = dict.fromkeys(COLUMNS)


def columns(user_agent: str | None) -> dict[str, Any]:
    """The four user-agent columns of a row; all NULL when the request had no User-Agent."""
    if not user_agent:
        return _NO_AGENT.copy()
    browser, os, device, bot = _classify(user_agent[:MAX_CLASSIFIED_CHARS])
    return {"ua_browser": browser, "ua_os": os, "ua_device": device, "is_bot": bot}


@lru_cache(maxsize=CACHE_SIZE)
def _classify(user_agent: str) -> tuple[str, str, str, bool]:
    parsed = _parse(user_agent)
    browser = parsed.user_agent.family if parsed.user_agent else _UNKNOWN
    os = parsed.os.family if parsed.os else _UNKNOWN
    device = parsed.device
    bot = (
        _bot_list().matches(user_agent)
        or (device is not None and device.family == "Spider")
        or (browser == _UNKNOWN and os == _UNKNOWN)
    )
    return browser, os, "bot" if bot else _device_class(os, device), bot


def _device_class(os: str, device: Device | None) -> str:
    family, brand, model = (device.family, device.brand, device.model) if device else (None, None, None)
    if family in _TABLET_DEVICE_FAMILIES or brand in _TABLET_DEVICE_BRANDS:
        return "tablet"
    if os in _MOBILE_OS or (brand == "Generic" and model in _PHONE_DEVICE_MODELS):
        return "mobile"
    if os in _DESKTOP_OS:
        return "desktop"
    return "other"


def _parse(user_agent: str) -> Result:
    import ua_parser  # noqa: PLC0415  # first use, not import time: cold start

    return ua_parser.parse(user_agent)


class _BotList:
    """Crawler-Detect's test: strip the agent, remove the exclusions (browser tokens such as
    `Safari/537.36`), then any crawler pattern found means a bot. The few patterns RE2 cannot
    run (lookarounds) stay with Python's `re`."""

    def __init__(self) -> None:
        import re2  # type: ignore[import-untyped]  # noqa: PLC0415  # first use, not import time
        from crawlerdetect.providers import crawlers, exclusions  # type: ignore[import-untyped]  # noqa: PLC0415

        options = re2.Options()
        options.case_sensitive = False
        options.log_errors = False
        linear, other = [], []
        for pattern in crawlers.data:
            try:
                re2.compile(pattern, options)
                linear.append(pattern)
            except re2.error:
                other.append(pattern)
        self._exclusions = re.compile("|".join(exclusions.data), re.IGNORECASE)
        self._linear = re2.compile("|".join(f"(?:{p})" for p in linear), options)
        self._other = re.compile("|".join(other), re.IGNORECASE) if other else None

    def matches(self, user_agent: str) -> bool:
        agent = self._exclusions.sub("", user_agent.strip())
        if not agent:
            return False
        return bool(self._linear.search(agent) or (self._other is not None and self._other.search(agent)))


@lru_cache(maxsize=1)
def _bot_list() -> _BotList:
    return _BotList()
