"""The demo's story as Pub/Sub payloads: a blog on GKE behind a load balancer.

Built from the documented LogEntry shapes in local/entries.py (each cites its
source), varied with a seeded random generator so every run publishes the same traffic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from local import entries as fx

PATHS = ["/", "/posts/hello-world", "/posts/gke-ingress-notes", "/feed.xml", "/tags/python", "/about",
         "/static/app.3f9a1c.js", "/static/style.css", "/wp-login.php", "/api/comments"]  # fmt: skip
AGENTS = ["Go-http-client/1.1", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15", "curl/8.5.0",
          "Prometheus/2.53.0", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]  # fmt: skip
MALFORMED = [b"{not json", b'"a JSON string, not an object"', b"\xc3\x28 not utf-8", b"[1, 2, 3]"]


@dataclass(frozen=True, slots=True)
class Item:
    kind: str  # what the processor should make of it: http, other or error
    source: str
    payload: bytes


def story(requests: int = 400, seed: int = 11) -> Iterator[Item]:
    """`requests` HTTP requests (70% load balancer, 20% nginx in GKE, 10% Cloud Run), then
    a few non-HTTP entries and the malformed messages."""
    rng = random.Random(seed)
    for i in range(requests):
        path = rng.choices(PATHS, weights=[20, 15, 8, 10, 5, 3, 12, 12, 2, 6])[0]
        status = rng.choices([200, 304, 301, 404, 500, 503], weights=[80, 8, 3, 6, 2, 1])[0]
        size = rng.randrange(200, 60000) if status == 200 else rng.randrange(0, 600)
        latency = rng.lognormvariate(-3.5, 0.9)
        second = f"{i % 60:02d}"
        roll = rng.random()
        if roll < 0.7:
            entry = fx.load_balancer()
            entry["httpRequest"].update(
                requestUrl=f"https://blog.example.com{path}", status=status, responseSize=str(size),
                userAgent=rng.choice(AGENTS), latency=f"{latency:.6f}s",
                remoteIp=f"203.0.113.{rng.randrange(1, 255)}:{rng.randrange(1024, 65535)}",
            )  # fmt: skip
            source = "load balancer"
        elif roll < 0.9:
            line = (f'10.8.0.{rng.randrange(2, 30)} - - [20/Nov/2026:09:15:{second} +0000] "GET {path} HTTP/1.1" '
                    f'{status} {size} "-" "{rng.choice(AGENTS)}"')  # fmt: skip
            entry = fx.gke_container(line)
            source = "nginx (GKE)"
        else:
            entry = fx.cloud_run()
            entry["httpRequest"].update(status=status, latency=f"{latency:.6f}s", responseSize=str(size))
            source = "Cloud Run"
        entry["insertId"] = f"demo-{seed}-{i:06d}"
        entry["timestamp"] = f"2026-11-20T09:{15 + i // 60 % 40:02d}:{second}.{rng.randrange(10**6):06d}Z"
        yield Item("http", source, fx.data(entry))
    for i, entry in enumerate((fx.gen1_function(), fx.iap_audit(), fx.gke_container(fx.NGINX_ERROR))):
        entry["insertId"] = f"demo-{seed}-other-{i}"
        yield Item("other", "non-HTTP entry", fx.data(entry))
    for payload in MALFORMED:
        yield Item("error", "malformed message", payload)
