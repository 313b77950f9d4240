"""A `LocalPipeline` seen through what a user would look at (BigQuery tables, the archive
bucket, the functions' logs). Shared by the end-to-end tests (tests/e2e, one pipeline per module)
and the reliability harness (local/reliability.py).

`E2E` keeps a ledger of every message published through Pub/Sub, because every message also
lands in the drain subscription: a successful `drain` must pull exactly the messages published
since the previous successful one, and the archive must hold each of them.
"""

from __future__ import annotations

import base64
import gzip
import re
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from local import entries as fx
from local.pipeline import BUCKET, INGEST_SUBSCRIPTION, LocalPipeline
from sinks.clients import make_bigquery_client, make_storage_client

T = TypeVar("T")

DEADLINE_SECONDS = 60.0  # every wait is bounded by this unless a test says otherwise
PUSH_SUBSCRIPTION_PATH = f"projects/test-project/subscriptions/{INGEST_SUBSCRIPTION}"
_SAFE_LITERAL = re.compile(r"^[A-Za-z0-9_.:-]+$")


def unique(prefix: str) -> str:
    return f"e2e-{prefix}-{uuid.uuid4().hex[:10]}"


def entry(base: dict[str, Any], insert_id: str, timestamp: str = "2026-11-20T09:15:02.123456789Z") -> bytes:
    """A sample LogEntry (local/entries.py) with its own insertId and timestamp, as published."""
    return fx.data(fx.variant(base, insertId=insert_id, timestamp=timestamp))


def wait_for(fetch: Callable[[], T], done: Callable[[T], bool], what: str, timeout: float = DEADLINE_SECONDS) -> T:
    """Calls `fetch` until `done(value)` or the deadline; fails the test with the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f} s; last value: {value!r}")
        time.sleep(0.3)


def sql_list(values: Iterable[str]) -> str:
    """A SQL list literal of ids this suite generated (checked, so nothing needs escaping)."""
    items = list(values)
    for v in items:
        assert _SAFE_LITERAL.match(v), f"unexpected characters in id {v!r}"
    return ", ".join(f"'{v}'" for v in items) or "''"


@dataclass(frozen=True, slots=True)
class Published:
    message_id: str
    data: bytes

    @property
    def insert_id(self) -> str | None:
        try:
            entry = orjson.loads(self.data)
        except orjson.JSONDecodeError:
            return None
        value = entry.get("insertId") if isinstance(entry, dict) else None
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class ArchiveLine:
    object_name: str
    line: bytes

    @property
    def is_error_record(self) -> bool:
        return "/_errors/" in f"/{self.object_name}"

    def record(self) -> dict[str, Any]:
        value = orjson.loads(self.line)
        assert isinstance(value, dict), f"archive line of {self.object_name} is not an object: {self.line[:200]!r}"
        return value


@dataclass(frozen=True, slots=True)
class LogLine:
    message_id: str | None
    outcome: str
    reason: str | None


@dataclass
class E2E:
    pipeline: LocalPipeline
    published: list[Published] = field(default_factory=list)  # every message, ever
    pending: list[Published] = field(default_factory=list)  # not yet drained successfully

    # -- Pub/Sub -------------------------------------------------------------------------------
    def publish(self, payloads: list[bytes], attributes: Mapping[str, str] | None = None) -> list[str]:
        ids = self.pipeline.publish(payloads, dict(attributes) if attributes else None)
        assert len(ids) == len(payloads) and len(set(ids)) == len(ids), f"message ids: {ids}"
        records = [Published(i, p) for i, p in zip(ids, payloads, strict=True)]
        self.published += records
        self.pending += records
        return ids

    # -- HTTP ----------------------------------------------------------------------------------
    def post(self, server: str, body: bytes, timeout: float = 60.0) -> tuple[int, bytes, float]:
        """POSTs JSON to one function server: (status, body, seconds)."""
        request = urllib.request.Request(
            self.pipeline.servers[server].url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return int(response.status), response.read(), time.monotonic() - started
        except urllib.error.HTTPError as e:
            return e.code, e.read(), time.monotonic() - started

    def drain(self) -> tuple[int, dict[str, Any], list[Published]]:
        """Calls `drain` as Cloud Scheduler does: (status, summary, the messages it should have
        pulled). A successful run clears the ledger of pending messages."""
        expected = list(self.pending)
        status, body, _ = self.post("drain", b"{}", timeout=180.0)
        summary = orjson.loads(body)
        assert isinstance(summary, dict), f"drain answered {status} with {body[:500]!r}"
        if status == 200 and summary.get("failure") is None:
            self.pending = []
        return status, summary, expected

    # -- BigQuery ------------------------------------------------------------------------------
    def query(self, sql: str) -> list[dict[str, Any]]:
        client = make_bigquery_client(self.pipeline.settings)
        return [dict(row.items()) for row in client.query(sql).result(timeout=30)]

    def rows_by_message_id(self, table: str, message_ids: Iterable[str]) -> list[dict[str, Any]]:
        return self.query(f"SELECT * FROM `logs.{table}` WHERE message_id IN ({sql_list(message_ids)})")

    def rows_by_insert_id(self, table: str, insert_ids: Iterable[str]) -> list[dict[str, Any]]:
        return self.query(f"SELECT * FROM `logs.{table}` WHERE insert_id IN ({sql_list(insert_ids)})")

    # -- Cloud Storage -------------------------------------------------------------------------
    def archive(self) -> list[ArchiveLine]:
        """Every line of every object in the bucket, decompressed."""
        client = make_storage_client(self.pipeline.settings)
        lines: list[ArchiveLine] = []
        for blob in client.list_blobs(BUCKET):
            raw = blob.download_as_bytes(raw_download=True)
            assert blob.content_encoding == "gzip", f"{blob.name}: content-encoding {blob.content_encoding!r}"
            assert blob.name.endswith(".ndjson.gz"), blob.name
            text = gzip.decompress(raw)
            assert text.endswith(b"\n"), f"{blob.name}: last line not terminated"
            lines += [ArchiveLine(blob.name, line) for line in text[:-1].split(b"\n")]
        return lines

    def assert_archived(self, messages: Iterable[Published], archive: list[ArchiveLine] | None = None) -> None:
        """Each message is in the archive exactly as often as it was published: LogEntries
        (matched by insertId) byte for byte, the rest as `_errors/` records (by message id)."""
        lines = self.archive() if archive is None else archive
        by_insert_id: dict[str, list[ArchiveLine]] = {}
        by_message_id: dict[str, list[dict[str, Any]]] = {}
        for line in lines:
            record = line.record()
            if line.is_error_record:
                by_message_id.setdefault(str(record.get("message_id")), []).append(record)
            elif isinstance(record.get("insertId"), str):
                by_insert_id.setdefault(record["insertId"], []).append(line)
        published_per_insert_id: dict[str, Counter[bytes]] = {}
        for p in self.published:
            if p.insert_id:
                published_per_insert_id.setdefault(p.insert_id, Counter())[p.data] += 1
        for message in messages:
            insert_id = message.insert_id
            if insert_id is not None:
                found = Counter(f.line for f in by_insert_id.get(insert_id, []))
                assert found == published_per_insert_id[insert_id], (
                    f"insertId {insert_id} (message {message.message_id}): the archive holds "
                    f"{sum(found.values())} lines, {len(found)} distinct, for "
                    f"{sum(published_per_insert_id[insert_id].values())} published messages "
                    f"(objects {sorted({f.object_name for f in by_insert_id.get(insert_id, [])})})"
                )
            else:
                records = by_message_id.get(message.message_id, [])
                assert len(records) == 1, f"message {message.message_id} has {len(records)} _errors/ records: {records}"
                assert base64.b64decode(records[0]["data_b64"]) == message.data, f"message {message.message_id} data"

    # -- the functions' own logs ---------------------------------------------------------------
    def ingest_log(self) -> list[LogLine]:
        """The summary lines `ingest` wrote (structured JSON, one per stored message)."""
        return [LogLine(r.get("message_id"), r["outcome"], r.get("reason")) for r in self._ingest_log_records()]

    def ingest_log_size(self) -> int:
        return self.pipeline.servers["ingest"].log_path.stat().st_size

    def ingest_log_after(self, offset: int) -> list[LogLine]:
        return [LogLine(r.get("message_id"), r["outcome"], r.get("reason")) for r in self._ingest_log_records(offset)]

    def _ingest_log_records(self, offset: int = 0) -> list[dict[str, Any]]:
        with self.pipeline.servers["ingest"].log_path.open("rb") as log:
            log.seek(offset)
            text = log.read()
        records = []
        for line in text.splitlines():
            if not line.startswith(b"{"):
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(record, dict) and "outcome" in record:
                records.append(record)
        return records

    def wait_ingested(self, message_ids: Iterable[str], timeout: float = DEADLINE_SECONDS) -> dict[str, list[LogLine]]:
        """Waits until `ingest` logged an outcome for every message id; returns them by id."""
        wanted = set(message_ids)

        def fetch() -> dict[str, list[LogLine]]:
            found: dict[str, list[LogLine]] = {}
            for line in self.ingest_log():
                if line.message_id in wanted:
                    found.setdefault(line.message_id, []).append(line)
            return found

        return wait_for(fetch, lambda f: set(f) == wanted, f"ingest outcomes for {sorted(wanted)}", timeout)


def push_body(data: bytes | None, message_id: str, attributes: Mapping[str, str] | None = None) -> bytes:
    """A push request body as a Pub/Sub push subscription sends it."""
    message: dict[str, Any] = {
        "messageId": message_id,
        "publishTime": "2026-11-20T09:15:03.5Z",
        "attributes": dict(attributes or {}),
    }
    if data is not None:
        message["data"] = base64.b64encode(data).decode("ascii")
    return orjson.dumps({"message": message, "subscription": "projects/test-project/subscriptions/x"})
