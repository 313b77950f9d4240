"""A small, realistic archive for the replay tests, written the way `drain` writes it: each
LogEntry published as a Pub/Sub message, turned into an outcome by the live pipeline, and
archived by the real Archiver on fake-gcs-server. Entries come from local/entries.py
(each cites the documentation it follows), varied in insertId and time.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
from typing import Any

import orjson

from functions import logentry, pipeline, timestamps
from functions.message import Message
from functions.outcome import Outcome, Row
from functions.schema import HTTP_REQUESTS, Table
from local import entries as fx
from sinks.clients import make_bigquery_client, make_storage_client
from tests.sinks.conftest import Destinations

DAYS = ("2024-05-01", "2024-05-02")


def entries() -> list[dict[str, Any]]:
    """Two days of a blog's traffic: load balancer and Cloud Run requests, nginx and Envoy lines
    from GKE, a non-request line, an entry with no time at all, and one whose field no reading
    accepts (`bad_field`)."""
    made: list[dict[str, Any]] = []
    for d, day in enumerate(DAYS):
        for n in range(12):
            hour = (3 * n) % 24
            when = f"{day}T{hour:02d}:{n:02d}:0{d}.123456789Z"
            base = (fx.load_balancer, fx.cloud_run, _nginx, _envoy)[n % 4]()
            made.append(fx.variant(base, insertId=f"{day}-{n:03d}", timestamp=when, receiveTimestamp=when))
        made.append(fx.variant(fx.gke_container(fx.NGINX_ERROR), insertId=f"{day}-err", timestamp=f"{day}T05:00:00Z"))
        timeless = fx.variant(fx.load_balancer(), insertId=f"{day}-timeless")
        del timeless["timestamp"], timeless["receiveTimestamp"]
        made.append(timeless)
        bad = fx.variant(fx.load_balancer(), insertId=f"{day}-bad", timestamp=f"{day}T07:30:00Z")
        bad["httpRequest"]["status"] = {"code": 200}
        made.append(bad)
    return made


def _nginx() -> dict[str, Any]:
    return fx.gke_container(fx.NGINX_MAIN)


def _envoy() -> dict[str, Any]:
    return fx.gke_container(fx.ENVOY_DEFAULT, container="istio-proxy")


def live_outcomes() -> list[Outcome]:
    """What today's pipeline makes of the entries as they were published. The timeless entries
    were published at 16:20 on their day."""
    outcomes = []
    for number, entry in enumerate(entries()):
        published = entry.get("timestamp") or f"{entry['insertId'][:10]}T16:20:00.5Z"
        message = Message(data=orjson.dumps(entry), message_id=f"{7000 + number}", publish_time=published)
        outcomes.append(pipeline.process(message))
    return outcomes


def older_reading(outcome: Outcome) -> Outcome:
    """What an older parser made of the same message: it knew no Envoy format, did not fill
    `host`, and read the entry whose status is an object as no request at all (`other`)."""
    if outcome.kind == "error":
        entry = orjson.loads(outcome.payload)
        time = logentry.event_time(entry, outcome.message.publish_time)
        return Outcome("other", outcome.message, outcome.payload, log_id=logentry.log_id(entry), event_time=time)
    if outcome.kind != "http" or outcome.row is None:
        return outcome
    if outcome.row["source"] == "envoy":
        return dataclasses.replace(outcome, kind="other", row=None)
    return dataclasses.replace(outcome, row={**outcome.row, "host": None})


def write_archive(dest: Destinations) -> list[Outcome]:
    """Creates the test's bucket and archives the entries as the older reading's `drain` did,
    in two batches; returns that older reading's outcomes."""
    make_storage_client(dest.settings()).create_bucket(dest.bucket)
    outcomes = [older_reading(o) for o in live_outcomes()]
    archiver = dest.archiver()
    archiver.archive(outcomes[: len(outcomes) // 2])
    archiver.archive(outcomes[len(outcomes) // 2 :])
    return outcomes


def table_rows(dest: Destinations, table: Table) -> list[Row]:
    """Every row of a destination table as plain values (timestamps RFC 3339, JSON parsed), sorted."""
    client = make_bigquery_client(dest.settings())
    own = dest.settings().bigquery_table if table is HTTP_REQUESTS else dest.settings().bigquery_error_table
    columns = ", ".join(
        f"TO_JSON_STRING(`{c.name}`) AS `{c.name}`" if c.type == "JSON" else f"`{c.name}`" for c in table.columns
    )
    result = client.query(f"SELECT {columns} FROM `{client.project}.{dest.dataset}.{own}`").result()
    rows = [{c.name: _plain(c.type, r[c.name]) for c in table.columns} for r in result]
    return sorted(rows, key=lambda r: orjson.dumps(r, option=orjson.OPT_SORT_KEYS))


def expected(row: Row, table: Table) -> Row:
    """A row as the pipeline builds it, in table_rows' terms."""
    return {c.name: _plain(c.type, row.get(c.name), built=True) for c in table.columns}


def _plain(kind: str, value: Any, built: bool = False) -> Any:
    if value is None:
        return None
    if kind == "TIMESTAMP":
        return timestamps.normalize(value) if built else timestamps.format_utc(value)
    if kind == "JSON":
        parsed = orjson.loads(value)
        return None if parsed is None else parsed
    if kind == "BYTES" and not built:
        return base64.b64encode(value).decode()
    return value


def dataset_tables(dest: Destinations) -> list[str]:
    client = make_bigquery_client(dest.settings())
    return sorted(t.table_id for t in client.list_tables(f"{client.project}.{dest.dataset}"))


def now_day() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()
