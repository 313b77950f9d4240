"""What the user-agent columns (functions/user_agent.py) cost per row, on one core.

Times, in the same run:
* first use: loading uap-core's regexes and the Crawler-Detect list (paid once per instance);
* a miss: an agent never seen before classified (uap-core + Crawler-Detect), and the bot list
  alone against crawlerdetect's own `is_crawler` (one Python `re` alternation);
* a realistic mix: N rows whose agents follow a Zipf law over ~300 distinct agents (browser
  versions on four OSes, phones, crawlers, probes), so most rows are cache hits;
* the baseline: json.loads + json.dumps of one load-balancer LogEntry (what issue 13 takes as
  the floor of a drain's CPU per message);
* the whole core, `pipeline.process` on pulled bytes, with and without the columns.

Usage: python bench/user_agent.py [N]
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from functions import user_agent
from functions.message import Message
from functions.pipeline import process
from local import entries as fx


def agents(rng: random.Random) -> list[str]:
    """~300 distinct, realistic agents: the long tail a blog sees."""
    out = []
    for version in range(110, 131):
        out += [
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Safari/537.36",
            f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Safari/537.36",
            f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Safari/537.36",
            f"Mozilla/5.0 (Linux; Android 14; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Mobile Safari/537.36",
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:{version}.0) Gecko/20100101 Firefox/{version}.0",
            f"Mozilla/5.0 (X11; Linux x86_64; rv:{version}.0) Gecko/20100101 Firefox/{version}.0",
            f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{version}.0.0.0 Safari/537.36 Edg/{version}.0.0.0",
        ]
    for ios in ("15_8", "16_7", "17_4", "17_5", "17_6", "18_0", "18_1"):
        for device in ("iPhone; CPU iPhone OS", "iPad; CPU OS"):
            out.append(
                f"Mozilla/5.0 ({device} {ios} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                f"Version/{ios.split('_')[0]}.0 Mobile/15E148 Safari/604.1"
            )
    out += [f"kube-probe/1.{minor}" for minor in range(26, 32)]
    out += [f"curl/8.{minor}.0" for minor in range(0, 11)]
    out += [f"Prometheus/2.{minor}.0" for minor in range(45, 55)]
    out += [
        "GoogleHC/1.0",
        "Go-http-client/1.1",
        "Go-http-client/2.0",
        "Google-Cloud-Scheduler",
        "python-requests/2.32.3",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Feedly/1.0 (+http://www.feedly.com/fetcher.html; 12 subscribers)",
    ]
    rng.shuffle(out)
    return out


def per_call(label: str, work: Callable[[], object], n: int, repeat: int = 5) -> float:
    best = min(_timed(work) for _ in range(repeat))
    micros = best * 1e6 / n
    print(f"  {label:<52} {micros:>8.2f} µs/row")
    return micros


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    rng = random.Random(3)
    distinct = agents(rng)
    weights = [1 / (rank + 1) for rank in range(len(distinct))]  # Zipf: a few agents carry most rows
    mix = rng.choices(distinct, weights=weights, k=n)
    print(f"bench/user_agent.py: {n:,} rows, {len(distinct)} distinct agents (Zipf), best of 5, one core")

    start = time.perf_counter()
    user_agent.columns(distinct[0])
    print(f"  first use (load uap-core and Crawler-Detect)          {(time.perf_counter() - start) * 1e3:>8.1f} ms")

    fresh = iter(range(10**9))

    def misses() -> None:
        # A suffix never seen before: a miss in our cache and in both libraries' own caches.
        run = next(fresh)
        for agent in distinct:
            user_agent.columns(f"{agent} r{run}")

    miss = per_call("miss: one distinct agent classified", misses, len(distinct))

    def bot_list_only() -> None:
        run = next(fresh)
        for agent in distinct:
            user_agent._bot_list().matches(f"{agent} r{run}")

    def library_only() -> None:
        run = next(fresh)
        for agent in distinct:
            library.is_crawler(f"{agent} r{run}")

    from crawlerdetect import CrawlerDetect  # type: ignore[import-untyped]  # noqa: PLC0415

    library = CrawlerDetect()
    ours = per_call("  of which the bot list (Crawler-Detect on RE2)", bot_list_only, len(distinct))
    theirs = per_call("  crawlerdetect's own is_crawler, same agents", library_only, len(distinct), repeat=2)
    print(f"  RE2 matches the bot list {theirs / ours:.0f}x faster than the library's Python alternation")

    def realistic() -> None:
        user_agent._classify.cache_clear()
        for agent in mix:
            user_agent.columns(agent)

    hit_rate = 1 - len(set(mix)) / n
    realistic_cost = per_call(f"realistic mix ({hit_rate:.1%} cache hits)", realistic, n)

    entry = fx.load_balancer()
    text = json.dumps(entry)
    baseline = per_call("baseline: json.loads + json.dumps of the entry", lambda: [json.dumps(json.loads(text)) for _ in range(n)], n)  # fmt: skip

    pulled = []
    for i, agent in enumerate(mix[:n]):
        entry["httpRequest"]["userAgent"] = agent
        entry["insertId"] = f"{i:012x}"
        pulled.append(Message(data=fx.data(entry), message_id=str(i)))
    # Alternated, best of each: on a shared machine, back-to-back runs see different loads.
    stub = mock.patch.object(user_agent, "columns", lambda _agent: dict.fromkeys(user_agent.COLUMNS))
    with_times, without_times = [], []
    for _ in range(5):
        with_times.append(_timed(lambda: [process(m) for m in pulled]))
        with stub:
            without_times.append(_timed(lambda: [process(m) for m in pulled]))
    with_columns, without = min(with_times) * 1e6 / n, min(without_times) * 1e6 / n
    print(f"  {'pipeline.process, with the columns':<52} {with_columns:>8.2f} µs/row")
    print(f"  {'pipeline.process, columns stubbed to NULL':<52} {without:>8.2f} µs/row")
    print(f"  the columns add {with_columns - without:.2f} µs/row to the core "
          f"({(with_columns - without) / baseline:.2f}x the baseline); a miss costs {miss / baseline:.1f}x it; "
          f"the mix alone {realistic_cost:.2f} µs/row")  # fmt: skip


if __name__ == "__main__":
    main()
