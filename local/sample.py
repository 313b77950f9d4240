"""The demo's story as Pub/Sub payloads: a blog on GKE behind a load balancer.

Built from the documented LogEntry shapes in local/entries.py (each cites its
source), varied with a seeded random generator so every run publishes the same traffic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from local import entries as fx

PATHS = ["/", "/posts/hello-world", "/posts/gke-ingress-notes", "/feed.xml", "/tags/python", "/about",
         "/static/app.3f9a1c.js", "/static/style.css", "/wp-login.php", "/api/comments"]  # fmt: skip
# (agent, weight, referrers): people with their browsers, crawlers, and the probes of a GKE
# cluster behind a load balancer (kubelet, the load balancer's health check, Prometheus).
AGENTS = [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", 14, True),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", 6, True),
    ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", 8, True),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", 10, True),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36", 8, True),
    ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", 2, True),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 6, False),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", 3, False),
    ("curl/8.5.0", 3, False),
    ("Go-http-client/1.1", 4, False),
    ("kube-probe/1.30", 6, False),
    ("GoogleHC/1.0", 6, False),
    ("Prometheus/2.53.0", 4, False),
]  # fmt: skip
REFERRERS = [None, None, None, None, "https://www.google.com/", "https://news.ycombinator.com/",
             "https://blog.example.com/", "https://duckduckgo.com/", "https://t.co/x7QpZ3"]  # fmt: skip
START = datetime(2026, 11, 20, 9, 15, tzinfo=UTC)
SPAN_SECONDS = 3600  # the requests are spread evenly over an hour from `start`
MALFORMED = [b"{not json", b'"a JSON string, not an object"', b"\xc3\x28 not utf-8", b"[1, 2, 3]"]


@dataclass(frozen=True, slots=True)
class Item:
    kind: str  # what the processor should make of it: http, other or error
    source: str
    payload: bytes


def story(requests: int = 400, seed: int = 11, start: datetime = START) -> Iterator[Item]:
    """`requests` HTTP requests spread over the hour from `start` (70% load balancer, 20% nginx
    in GKE, 10% Cloud Run), then a few non-HTTP entries and the malformed messages."""
    rng = random.Random(seed)
    agents = [agent for agent, _, _ in AGENTS]
    weights = [weight for _, weight, _ in AGENTS]
    browsers = {agent for agent, _, browser in AGENTS if browser}
    for i in range(requests):
        path = rng.choices(PATHS, weights=[20, 15, 8, 10, 5, 3, 12, 12, 2, 6])[0]
        status = rng.choices([200, 304, 301, 404, 500, 503], weights=[80, 8, 3, 6, 2, 1])[0]
        size = rng.randrange(200, 60000) if status == 200 else rng.randrange(0, 600)
        latency = rng.lognormvariate(-3.5, 0.9)
        when = start + timedelta(seconds=i * SPAN_SECONDS // requests)
        agent = rng.choices(agents, weights)[0]
        referrer = rng.choice(REFERRERS) if agent in browsers else None
        roll = rng.random()
        if roll < 0.7:
            entry = fx.load_balancer()
            entry["httpRequest"].update(
                requestUrl=f"https://blog.example.com{path}", status=status, responseSize=str(size),
                userAgent=agent, latency=f"{latency:.6f}s",
                remoteIp=f"203.0.113.{rng.randrange(1, 255)}:{rng.randrange(1024, 65535)}",
            )  # fmt: skip
            if referrer:
                entry["httpRequest"]["referer"] = referrer
            source = "load balancer"
        elif roll < 0.9:
            line = (f'10.8.0.{rng.randrange(2, 30)} - - [{when:%d/%b/%Y:%H:%M:%S} +0000] "GET {path} HTTP/1.1" '
                    f'{status} {size} "{referrer or "-"}" "{agent}"')  # fmt: skip
            entry = fx.gke_container(line)
            source = "nginx (GKE)"
        else:
            entry = fx.cloud_run()
            entry["httpRequest"].update(status=status, latency=f"{latency:.6f}s", responseSize=str(size))
            source = "Cloud Run"
        entry["insertId"] = f"demo-{seed}-{i:06d}"
        entry["timestamp"] = f"{when:%Y-%m-%dT%H:%M:%S}.{rng.randrange(10**6):06d}Z"
        yield Item("http", source, fx.data(entry))
    for i, entry in enumerate((fx.gen1_function(), fx.iap_audit(), fx.gke_container(fx.NGINX_ERROR))):
        entry["insertId"] = f"demo-{seed}-other-{i}"
        yield Item("other", "non-HTTP entry", fx.data(entry))
    for payload in MALFORMED:
        yield Item("error", "malformed message", payload)
