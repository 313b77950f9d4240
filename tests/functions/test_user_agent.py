"""User-agent columns (functions/user_agent.py): browser, OS, device class and bot flag.

The agents are real ones, each from where it is documented:
- browsers: the User-Agent examples of MDN (developer.mozilla.org/docs/Web/HTTP/Headers/User-Agent)
  and Chrome's reduced UA (developer.chrome.com/docs/privacy-security/user-agent-client-hints);
- crawlers: Google's crawler list (developers.google.com/search/docs/crawling-indexing/overview-google-crawlers),
  Bing's (bing.com/webmasters/help/which-crawlers-does-bing-use);
- probes: kubelet's `kube-probe/<version>` (kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes),
  Google Cloud load balancer health checks' `GoogleHC/1.0` (cloud.google.com/load-balancing/docs/health-check-concepts),
  Prometheus' `Prometheus/<version>` scrape agent, Cloud Scheduler's `Google-Cloud-Scheduler`
  (cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#HttpTarget).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions import user_agent
from functions.pipeline import process
from local import entries as fx

CASES = [
    # (agent, browser, os, device class, bot)
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
     "Chrome", "Windows", "desktop", False),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox", "Linux", "desktop", False),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
     "Safari", "Mac OS X", "desktop", False),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
     "Chrome Mobile", "Android", "mobile", False),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
     "Mobile Safari", "iOS", "mobile", False),
    ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
     "Mobile Safari", "iOS", "tablet", False),
    ("Mozilla/5.0 (Linux; Android 13; SM-T220) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
     "Chrome", "Android", "tablet", False),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot", "Other", "bot", True),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "bingbot", "Other", "bot", True),
    ("curl/8.5.0", "curl", "Other", "bot", True),
    ("Go-http-client/1.1", "Go-http-client", "Other", "bot", True),
    ("kube-probe/1.30", "Other", "Other", "bot", True),
    ("GoogleHC/1.0", "Other", "Other", "bot", True),
    # Not on the Crawler-Detect list: bots because uap-core knows no browser and no OS in them.
    ("Prometheus/2.53.0", "Other", "Other", "bot", True),
    ("Google-Cloud-Scheduler", "Other", "Other", "bot", True),
]  # fmt: skip


@pytest.mark.parametrize(("agent", "browser", "os", "device", "bot"), CASES)
def test_known_agents(agent: str, browser: str, os: str, device: str, bot: bool) -> None:
    assert user_agent.columns(agent) == {"ua_browser": browser, "ua_os": os, "ua_device": device, "is_bot": bot}


@pytest.mark.parametrize("agent", [None, ""])
def test_no_agent_gives_null_columns(agent: str | None) -> None:
    assert user_agent.columns(agent) == dict.fromkeys(user_agent.COLUMNS)


def test_only_the_head_of_a_huge_header_is_read() -> None:
    huge = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 " + "x" * 2_000_000
    user_agent._classify.cache_clear()
    head = user_agent.columns(huge[: user_agent.MAX_CLASSIFIED_CHARS])
    assert user_agent.columns(huge) == head
    assert head["ua_browser"] == "Firefox"
    info = user_agent._classify.cache_info()
    assert (info.misses, info.hits) == (1, 1)  # one cache key: the head, not the 2 MB string


def test_repeated_agents_are_cache_hits() -> None:
    agent = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"
    user_agent.columns(agent)
    hits = user_agent._classify.cache_info().hits
    for _ in range(10):
        user_agent.columns(agent)
    assert user_agent._classify.cache_info().hits == hits + 10


@given(st.text(max_size=300))
def test_any_text_gives_one_of_the_classes(agent: str) -> None:
    columns = user_agent.columns(agent)
    assert set(columns) == set(user_agent.COLUMNS)
    if not agent:
        return
    assert columns["ua_device"] in ("desktop", "mobile", "tablet", "bot", "other")
    assert isinstance(columns["is_bot"], bool)
    assert (columns["ua_device"] == "bot") == columns["is_bot"]
    assert isinstance(columns["ua_browser"], str) and isinstance(columns["ua_os"], str)


def test_rows_carry_the_columns() -> None:
    row = process(fx.pushed(fx.load_balancer())).row
    assert row is not None
    assert (row["ua_browser"], row["ua_device"], row["is_bot"]) == ("Go-http-client", "bot", True)


def test_import_main_loads_neither_library() -> None:
    """Cold start: the lists load on the first classified row, not when the function imports."""
    code = "import sys, main; print(sorted(m for m in ('ua_parser', 'crawlerdetect') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


TOKENS = ["Mozilla/5.0 ", "(compatible; ", "Safari/537.36", "Chrome/126.0", "bot", "Bot/2.1", "spider", "Yandex",
          "YandexSearch", "YandexBot", "curl/", "python-requests/2", "kube-probe/1.30", "Go-http-client", "; ", ") ",
          "HeadlessChrome", "Googlebot", "+http://", "Feed", "Fetcher", " ", "Amazon Simple Notification Service Agent", "CUBOT", "; M bot", "compatible"]  # fmt: skip


def _crawler_detect(agent: str) -> bool:
    from crawlerdetect import CrawlerDetect  # type: ignore[import-untyped]  # noqa: PLC0415

    return bool(CrawlerDetect().is_crawler(agent))


@pytest.mark.parametrize(
    "agent", [case[0] for case in CASES] + ["", "   ", "YandexSearch/1.0", "Mozilla/5.0 (compatible; YandexBot/3.0)"]
)
def test_the_bot_list_matches_as_crawler_detect_does(agent: str) -> None:
    """Crawler-Detect's patterns run on RE2 here: same answers as the library's own test."""
    assert user_agent._bot_list().matches(agent) == _crawler_detect(agent)


@given(st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), max_size=8).map("".join))
def test_the_bot_list_agrees_with_crawler_detect_on_mixed_agents(agent: str) -> None:
    assert user_agent._bot_list().matches(agent) == _crawler_detect(agent)
