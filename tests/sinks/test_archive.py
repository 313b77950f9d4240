"""The Cloud Storage archiver: layout and naming (pure), then real objects on fake-gcs-server."""

from __future__ import annotations

import base64
import gzip
import random
import time
from urllib.parse import unquote

import orjson
import pytest

from functions.message import Message
from functions.outcome import Outcome
from local.emulators import Stack
from sinks.archive import Archiver, plan
from sinks.clients import make_storage_client
from sinks.errors import DestinationError, RetryableError
from tests.sinks.conftest import Destinations, error_outcome, http_outcome


def objects(dest: Destinations) -> dict[str, bytes]:
    """Every object in the test's bucket: name -> decompressed content."""
    client = make_storage_client(dest.settings())
    result = {}
    for blob in client.list_blobs(dest.bucket):
        assert blob.content_type == "application/x-ndjson"
        assert blob.content_encoding == "gzip"
        result[blob.name] = gzip.decompress(blob.download_as_bytes(raw_download=True))
    return result


def make_bucket(dest: Destinations) -> Archiver:
    make_storage_client(dest.settings()).create_bucket(dest.bucket)
    return dest.archiver()


def test_layout_groups_by_log_id_and_event_hour() -> None:
    batch = [
        http_outcome(1, time="2024-05-01T10:15:00Z"),
        http_outcome(2, time="2024-05-01T10:59:59.999999Z"),
        http_outcome(3, time="2024-05-01T11:00:00Z"),
        http_outcome(4, log_id="cloudaudit.googleapis.com/activity", time="2024-05-01T10:00:00+02:00"),
        error_outcome("e1"),
    ]
    names = [obj.name for obj in plan(batch, "logs", 1 << 20)]
    dirs = sorted(name.rsplit("/", 1)[0] for name in names)
    assert dirs == [
        "logs/_errors/dt=2024-05-01/hour=10",  # by publish time
        "logs/cloudaudit.googleapis.com%2Factivity/dt=2024-05-01/hour=08",  # one segment, UTC
        "logs/requests/dt=2024-05-01/hour=10",
        "logs/requests/dt=2024-05-01/hour=11",
    ]
    assert all(name.endswith(".ndjson.gz") for name in names)


def test_longest_log_ids_still_make_valid_object_names() -> None:
    longest = ["a/" * 256, "a/" * 255 + "b"]  # Cloud Logging's 512-character limit, mostly escaped
    names = [plan([http_outcome(1, log_id=log_id)], "logs", 1 << 20)[0].name for log_id in longest]
    assert all(len(name.encode()) <= 1024 for name in names)
    assert names[0].rsplit("/", 3)[0] != names[1].rsplit("/", 3)[0]  # still one directory per log


def test_names_depend_only_on_the_message_ids() -> None:
    batch = [http_outcome(n) for n in range(20)]
    shuffled = random.Random(7).sample(batch, len(batch))
    assert [o.name for o in plan(batch, "p", 1 << 20)] == [o.name for o in plan(shuffled, "p", 1 << 20)]
    assert plan(batch, "p", 1 << 20)[0].name != plan(batch[1:], "p", 1 << 20)[0].name


def test_split_parts_are_byte_identical_for_any_order_of_the_batch() -> None:
    """A redelivered batch in another order must write the same contents under the same names:
    the 412 on a name counts its entries as archived."""
    batch = [http_outcome(n, message_id=f"m{n:03d}") for n in range(40)]
    limit = 7 * (len(batch[0].payload) + 1)
    first = plan(batch, "p", limit)
    assert len(first) > 3
    for seed in range(5):
        shuffled = random.Random(seed).sample(batch, len(batch))
        again = plan(shuffled, "p", limit)
        assert [(o.name, o.lines) for o in again] == [(o.name, o.lines) for o in first]


@pytest.mark.parametrize("log_id", ["_errors", "_unknown", "_anything", "_errors/dt=2024-05-01"])
def test_no_log_id_reaches_a_reserved_directory(log_id: str) -> None:
    (obj,) = plan([http_outcome(1, log_id=log_id)], "logs", 1 << 20)
    directory = obj.name.split("/")[1]
    assert not directory.startswith("_"), obj.name
    assert unquote(directory) == log_id  # still the log id, percent-encoded


def test_entries_without_a_log_name_go_to_the_unknown_directory() -> None:
    entry = {"insertId": "x", "textPayload": "hello", "timestamp": "2024-05-01T10:15:00Z"}
    payload = orjson.dumps(entry)
    outcome = Outcome("other", Message(payload, "m1"), payload, log_id=None, event_time="2024-05-01T10:15:00Z")
    (obj,) = plan([outcome], "p", 1 << 20)
    assert obj.name.startswith("p/_unknown/dt=2024-05-01/hour=10/")
    assert obj.lines == [payload]


def test_message_twice_in_a_batch_is_archived_once() -> None:
    one = http_outcome(1)
    assert plan([one, one], "p", 1 << 20)[0].lines == [one.payload]


def test_payload_with_raw_newlines_stays_one_line() -> None:
    entry = {"insertId": "x", "textPayload": 'GET / HTTP/1.1" 200\n', "timestamp": "2024-05-01T10:15:00Z"}
    pretty = orjson.dumps(entry, option=orjson.OPT_INDENT_2) + b"\r\n"
    outcome = Outcome("other", Message(pretty, "m1"), pretty, log_id="stdout", event_time="2024-05-01T10:15:00Z")
    (obj,) = plan([outcome], "p", 1 << 20)
    assert b"\n" not in obj.lines[0] and b"\r" not in obj.lines[0]
    assert orjson.loads(obj.lines[0]) == entry


def test_non_json_other_falls_back_to_errors_record() -> None:
    payload = b"{broken\n"
    outcome = Outcome(
        "other", Message(payload, "m1", "2024-05-01T09:00:00Z"), payload, log_id="x", event_time="2024-05-01T10:00:00Z"
    )
    (obj,) = plan([outcome], "p", 1 << 20)
    assert obj.name.startswith("p/_errors/dt=2024-05-01/hour=10/")  # its event time: no timestamp is read twice
    assert base64.b64decode(orjson.loads(obj.lines[0])["data_b64"]) == payload


def test_large_group_is_split_into_parts_in_order() -> None:
    batch = [http_outcome(n) for n in range(10)]
    limit = 3 * (len(batch[0].payload) + 1)
    parts = plan(batch, "p", limit)
    assert len(parts) == 4
    assert [p.name[-len("-000.ndjson.gz") :] for p in parts] == [f"-{i:03d}.ndjson.gz" for i in range(4)]
    assert [line for p in parts for line in p.lines] == [o.payload for o in batch]


@pytest.mark.emulators
def test_objects_decompress_to_exactly_the_input_lines(dest: Destinations) -> None:
    archiver = make_bucket(dest)
    batch = [http_outcome(n, time=f"2024-05-01T{10 + n % 2}:15:00Z") for n in range(6)]
    batch.append(http_outcome(9, log_id="cloudaudit.googleapis.com/activity"))
    batch.append(error_outcome("e1", b"\x00\xff binary"))
    report = archiver.archive(batch)
    assert report.objects_written == 4 and report.objects_present == 0 and report.api_calls == 4

    stored = objects(dest)
    assert len(stored) == 4
    by_dir = {name.rsplit("/", 1)[0]: content for name, content in stored.items()}
    assert by_dir["logs/requests/dt=2024-05-01/hour=10"] == b"".join(o.payload + b"\n" for o in batch[0:6:2])
    assert by_dir["logs/requests/dt=2024-05-01/hour=11"] == b"".join(o.payload + b"\n" for o in batch[1:6:2])
    assert by_dir["logs/cloudaudit.googleapis.com%2Factivity/dt=2024-05-01/hour=10"] == batch[6].payload + b"\n"
    (record,) = [orjson.loads(line) for line in by_dir["logs/_errors/dt=2024-05-01/hour=10"].splitlines()]
    assert record["message_id"] == "e1" and record["reason"] == "not_json"
    assert base64.b64decode(record["data_b64"]) == b"\x00\xff binary"
    assert report.bytes == sum(len(content) for content in stored.values())


@pytest.mark.emulators
def test_retried_batch_writes_no_second_object(dest: Destinations) -> None:
    archiver = make_bucket(dest)
    batch = [http_outcome(n) for n in range(5)] + [error_outcome("e1")]
    first = archiver.archive(batch)
    before = objects(dest)
    again = dest.archiver().archive(list(reversed(batch)))  # a redelivery, in another order, another instance
    assert (first.objects_written, first.objects_present) == (2, 0)
    assert (again.objects_written, again.objects_present) == (0, 2)
    assert objects(dest) == before


@pytest.mark.emulators
def test_missing_bucket_is_a_destination_error(dest: Destinations) -> None:
    with pytest.raises(DestinationError, match=dest.bucket):
        dest.archiver().archive([http_outcome(1)])


@pytest.mark.emulators
def test_stopped_storage_is_a_retryable_error_within_the_budget(stack: Stack, dest: Destinations) -> None:
    make_bucket(dest).archive([http_outcome(1)])
    budget = 3.0
    archiver = dest.archiver(budget=budget)
    stack.gcs.stop()
    try:
        started = time.monotonic()
        with pytest.raises(RetryableError) as raised:
            archiver.archive([http_outcome(2)])
        elapsed = time.monotonic() - started
        assert not isinstance(raised.value, DestinationError)
        assert budget - 1 <= elapsed <= budget + 2, elapsed
    finally:
        stack.gcs.restart()
    assert archiver.archive([http_outcome(2)]).objects_written == 1
    assert len(objects(dest)) == 2  # the object written before the restart is still there
