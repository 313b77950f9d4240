"""What the report and the Grafana dashboard show: one list of panels, each the answer of one
question (report/questions.py) drawn one way. Both renderers read this list, so the page and
the dashboard always show the same things."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["time_bars", "time_lines", "bars"]
Unit = Literal["requests", "ms", "bytes", "rows", "share"]


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the question's column
    label: str
    unit: Unit = "requests"


@dataclass(frozen=True, slots=True)
class Panel:
    """One chart: `series` drawn against `category` (the `time` column for time panels).

    `dimension` picks the rows of a question that answers several (user_agents); `extra` are
    columns shown in the table beside the chart but not drawn; bars are ranked by `rank`, as
    the question ranks them.
    """

    key: str
    title: str
    question: str
    kind: Kind
    category: Field
    series: tuple[Field, ...]
    description: str
    dimension: str | None = None
    extra: tuple[Field, ...] = ()
    rank: str = "requests"

    @property
    def columns(self) -> tuple[Field, ...]:
        return (self.category, *self.series, *self.extra)


SUMMARY_QUESTION = "traffic_summary"
STATS = (
    Field("requests", "Requests"),
    Field("status_4xx", "4xx responses"),
    Field("error_rate", "5xx rate", "share"),
    Field("p95_ms", "p95 latency", "ms"),
    Field("bytes_served", "Bytes served", "bytes"),
    Field("bot_share", "Bots and probes", "share"),
    Field("error_rows", "Error rows", "rows"),
)

_TIME = Field("time", "Time (UTC)")
_REQUESTS = Field("requests", "Requests")
_LATENCY = (Field("p50_ms", "p50", "ms"), Field("p95_ms", "p95", "ms"), Field("p99_ms", "p99", "ms"))

PANELS = (
    Panel(
        "status", "Requests by status class", "traffic_over_time", "time_bars", _TIME,
        (Field("status_2xx", "2xx"), Field("status_3xx", "3xx"), Field("status_4xx", "4xx"),
         Field("status_5xx", "5xx"), Field("status_other", "other")),
        "Requests per time bucket (1 minute for ranges up to 6 hours), stacked by status class.",
    ),
    Panel(
        "latency", "Latency over time", "traffic_over_time", "time_lines", _TIME, _LATENCY,
        "p50, p95 and p99 of the time to serve a request, per time bucket, in milliseconds.",
    ),
    Panel(
        "latency_by_path", "Latency by path", "latency_by_path", "bars", Field("path", "Path"), _LATENCY,
        "p50, p95 and p99 latency of the 15 most requested paths, in milliseconds.", extra=(_REQUESTS,),
    ),
    Panel(
        "top_paths", "Top paths", "top_paths", "bars", Field("path", "Path"), (_REQUESTS,),
        "The 20 most requested paths.",
        extra=(Field("bytes_served", "Bytes", "bytes"), Field("status_4xx", "4xx"), Field("status_5xx", "5xx"),
               Field("bot_requests", "Bots")),
    ),
    Panel(
        "not_found", "404s", "not_found", "bars", Field("path", "Path"), (_REQUESTS,),
        "Paths answered 404 most often: broken links and scanners.",
        extra=(Field("bot_requests", "Bots"), Field("referrers", "Referrers")),
    ),
    Panel(
        "referrers", "Referrers", "top_referrers", "bars", Field("referrer_host", "Referrer"), (_REQUESTS,),
        "Hosts in the Referer header of requests, the site's own included.", extra=(Field("paths", "Paths"),),
    ),
    Panel(
        "devices", "Devices", "user_agents", "bars", Field("value", "Device"), (_REQUESTS,),
        "Device class from the User-Agent: desktop, mobile, tablet, bot (crawlers, HTTP libraries, probes) or other.",
        dimension="device",
    ),
    Panel(
        "browsers", "Browsers (people)", "user_agents", "bars", Field("value", "Browser"), (_REQUESTS,),
        "Browser families of requests not made by bots.", dimension="browser",
    ),
    Panel(
        "operating_systems", "Operating systems (people)", "user_agents", "bars", Field("value", "OS"),
        (_REQUESTS,), "Operating systems of requests not made by bots.", dimension="os",
    ),
    Panel(
        "bots", "Bots and probes", "user_agents", "bars", Field("value", "Client"), (_REQUESTS,),
        "Automated clients: crawlers, HTTP libraries, health checks and monitoring probes.", dimension="bot",
    ),
    Panel(
        "bytes", "Bytes served", "traffic_over_time", "time_bars", _TIME, (Field("bytes_served", "Bytes", "bytes"),),
        "Response bytes per time bucket.",
    ),
    Panel(
        "errors", "Error rows over time", "traffic_over_time", "time_bars", _TIME,
        (Field("error_rows", "Error rows", "rows"),),
        "Messages the pipeline could not turn into a row (the errors table), per time bucket.",
    ),
    Panel(
        "error_reasons", "Error rows by reason", "error_rows", "bars", Field("reason", "Reason"),
        (Field("error_rows", "Error rows", "rows"),), "Why messages became error rows (README: Error rows).",
        extra=(Field("stage", "Stage"), Field("last_seen", "Last seen")), rank="error_rows",
    ),
)  # fmt: skip
