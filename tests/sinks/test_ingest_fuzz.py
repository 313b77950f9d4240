"""Fuzzing whole deliveries through `ingest` in process (sinks/ingest.py), and whole lines through
`python -m functions parse`: hostile values where real entries have theirs (numbers with hundreds
of digits, IPv6 hosts with and without ports and zones, escapes, text that is not ASCII, lists
where objects belong), in every envelope field and every way in. Whatever arrives: the delivery
is acked with exactly one outcome, and its row is one BigQuery takes (the Storage Write encoder
accepts it, and it is strict JSON for insertAll)."""

from __future__ import annotations

import base64
import io
import json
import sys
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions import __main__ as cli
from functions.schema import ERRORS, HTTP_REQUESTS
from local import entries as fx
from sinks import ingest
from sinks.proto_rows import ProtoRowEncoder
from tests.sinks.entrypoints import RecordingStore, runtime_with
from tests.sinks.entrypoints import push_body as push_body_of

BUDGET = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
ENCODERS = {"http": ProtoRowEncoder(HTTP_REQUESTS), "error": ProtoRowEncoder(ERRORS)}

huge_digits = st.text("0123456789", min_size=100, max_size=450).map(lambda d: "1" + d)
huge_numbers = st.one_of(
    huge_digits.map(int),  # a JSON number literal with hundreds of digits
    huge_digits.map(lambda d: -int(d)),
    huge_digits,  # the same as a string ("seconds": "999...")
    huge_digits.map(lambda d: f"-{d}"),
    huge_digits.map(lambda d: f"{d}s"),  # a Duration string
    huge_digits.map(lambda d: f"0.{d}s"),
    st.sampled_from(["1e400", "-1e400", "9" * 19, "-" + "9" * 19, "18446744073709551616"]),
)
ipv6 = st.ip_addresses(v=6).map(str)
hosts = st.one_of(
    ipv6,
    ipv6.map(lambda ip: f"[{ip}]:443"),
    ipv6.map(lambda ip: f"{ip}%eth0"),
    ipv6.map(lambda ip: f"[{ip}"),
    st.ip_addresses(v=4).map(lambda ip: f"{ip}:60102"),
    st.sampled_from(["[::1]:80", "::ffff:10.0.0.1", "[fe80::1%25en0]:8080", "[]", ":", "1.2.3.4:5:6"]),
)
escapes = st.sampled_from(["\\x22", '\\"', "\\n", "\\t", "\\\\", "\\u00e9", "\\xff\\xfe", "%00", "\x00", "\u2028"])
unicode_text = st.text(max_size=24)  # any code point but lone surrogates, which JSON cannot carry
lists_for_objects: st.SearchStrategy[Any] = st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3)
hostile = st.one_of(huge_numbers, hosts, unicode_text, lists_for_objects, st.none(), st.booleans(), st.floats())

# What each field of an httpRequest (and of an nginx JSON record) gets: mostly hostile values of
# its own kind, so that each kind reaches the code that reads it.
HTTP_FIELDS = {
    "requestSize": huge_numbers, "status": huge_numbers, "responseSize": huge_numbers, "latency": huge_numbers,
    "remoteIp": hosts, "serverIp": hosts, "requestUrl": st.one_of(hosts.map(lambda h: f"http://{h}/"), escapes),
    "userAgent": st.one_of(escapes, unicode_text), "referer": escapes, "requestMethod": unicode_text,
    "protocol": unicode_text, "cacheHit": hostile, "cacheLookup": hostile,
}  # fmt: skip
NGINX_FIELDS = {
    "status": huge_numbers, "body_bytes_sent": huge_numbers, "request_length": huge_numbers,
    "request_time": huge_digits, "remote_addr": hosts, "host": hosts, "http_host": hosts,
    "request": st.one_of(escapes, escapes.map(lambda e: f"GET /{e} HTTP/1.1")),
}  # fmt: skip
ENTRY_FIELDS = ["logName", "resource", "timestamp", "receiveTimestamp", "insertId", "labels", "httpRequest",
                "jsonPayload", "protoPayload", "severity", "trace", "spanId"]  # fmt: skip
LINES = [fx.NGINX_COMBINED, fx.NGINX_MAIN, fx.INGRESS_NGINX, fx.APACHE_VHOST_COMBINED, fx.ENVOY_DEFAULT]


def one_in(n: int, invert: bool = False) -> st.SearchStrategy[bool]:
    """True once in `n` draws (not `integers(0, n - 1) == 0`: Hypothesis favours 0)."""
    return st.sampled_from([invert] * (n - 1) + [not invert])


@st.composite
def entries(draw: st.DrawFn) -> Any:
    """A real LogEntry with hostile values spliced in; sometimes not an object at all."""
    base = draw(st.sampled_from([fx.load_balancer, fx.cloud_run, fx.app_engine, fx.cdn_hit, fx.nginx_json]))()
    http = base.get("httpRequest")
    if isinstance(http, dict):
        for name in draw(st.lists(st.sampled_from(sorted(HTTP_FIELDS)), max_size=4)):
            http[name] = draw(HTTP_FIELDS[name] if draw(one_in(5, invert=True)) else hostile)
        if draw(st.booleans()):
            http["latency"] = {"seconds": draw(huge_numbers), "nanos": draw(st.one_of(st.integers(), huge_numbers))}
    record = base.get("jsonPayload")
    if isinstance(record, dict) and "request" in record:
        for name in draw(st.lists(st.sampled_from(sorted(NGINX_FIELDS)), max_size=3)):
            record[name] = draw(NGINX_FIELDS[name])
    for name in draw(st.lists(st.sampled_from(ENTRY_FIELDS), max_size=3)):
        base[name] = draw(hostile)
    if draw(one_in(4)):  # an access line from a GKE container, hostile bits inside
        line = draw(st.sampled_from(LINES))
        for _ in range(draw(st.integers(1, 3))):
            cut = draw(st.integers(0, len(line)))
            line = line[:cut] + draw(st.one_of(escapes, hosts, huge_digits, unicode_text)) + line[cut:]
        base = fx.gke_container(line)
    if draw(one_in(10)):
        return draw(st.one_of(lists_for_objects, unicode_text, huge_numbers))
    return base


def _json(value: Any, escaped: bool = False) -> bytes:
    """Stdlib JSON: it writes integers of any size (and NaN, which is no JSON: also hostile);
    text that is not ASCII as raw UTF-8, or `\\uXXXX`-escaped."""
    return json.dumps(value, ensure_ascii=escaped).encode()


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    """(request body, headers) of one delivery, by any way in, with hostile envelope fields."""
    escaped = draw(st.booleans())
    data: Any = base64.b64encode(_json(draw(entries()), escaped)).decode()
    message: dict[str, Any] = {"data": data, "messageId": draw(st.text(min_size=1, max_size=20)),
                               "publishTime": draw(st.one_of(st.just("2026-11-20T09:15:03.5Z"), unicode_text)),
                               "attributes": draw(st.dictionaries(unicode_text, unicode_text, max_size=3))}  # fmt: skip
    if draw(one_in(4)):  # a quarter of the deliveries: hostile envelope fields
        for name in draw(st.lists(st.sampled_from(["data", "messageId", "publishTime", "attributes"]), max_size=2)):
            message[name] = draw(st.one_of(hostile, st.just("é"), st.dictionaries(unicode_text, hostile, max_size=2)))
    envelope: Any = {
        "message": message,
        "subscription": draw(st.one_of(st.just("projects/p/subscriptions/s"), hostile)),
    }
    if draw(one_in(10)):
        envelope = draw(st.sampled_from([[envelope], {"message": [message]}, message, [1, 2]]))
    body = _json(envelope, escaped)
    way = draw(st.sampled_from(["push"] * 4 + ["binary", "structured", "structured64", "text", "bytes"]))
    headers = {"Content-Type": "application/json"}
    if way == "binary":
        headers.update(
            {"ce-specversion": "1.0", "ce-type": ingest.PUBSUB_EVENT_TYPE, "ce-id": "ev-1", "ce-source": "//x"}
        )
    elif way.startswith("structured"):
        event: dict[str, Any] = {"specversion": "1.0", "type": ingest.PUBSUB_EVENT_TYPE, "id": "ev-2", "source": "//x"}
        if way == "structured64":
            event["data_base64"] = base64.b64encode(body).decode()
        else:
            event["data"] = envelope
        body, headers = _json(event), {"Content-Type": ingest.STRUCTURED_CLOUDEVENT}
    elif way == "text":
        headers = {"Content-Type": "text/plain; charset=utf-8"}
    elif way == "bytes":
        body = draw(st.binary(max_size=64)) + body[: draw(st.integers(0, len(body)))]
        headers = {"Content-Type": "application/octet-stream"}
    return body, headers


def not_strict_json(name: str) -> Any:
    raise AssertionError(f"{name} is not strict JSON")


def bigquery_takes(kind: str, row: dict[str, Any] | None) -> None:
    assert row is not None
    ENCODERS[kind].encode(row)  # raises RowRejectedError as BigQuery would refuse the row
    json.dumps(row, allow_nan=False)  # insertAll's body: strict JSON


@BUDGET
@given(deliveries())
def test_every_delivery_is_acked_with_one_outcome_bigquery_takes(delivery: tuple[bytes, dict[str, str]]) -> None:
    body, headers = delivery
    store = RecordingStore()
    status, answer = ingest.handle("POST", body, headers, runtime_with(store))
    assert status == 200, answer
    (outcome,) = store.outcomes
    if outcome.kind != "other":
        bigquery_takes(outcome.kind, outcome.row)


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(entries(), min_size=1, max_size=5), st.sampled_from(["json", "base64", "lines"]))
def test_the_parse_cli_gives_one_strict_json_outcome_per_line(items: list[Any], mode: str) -> None:
    if mode == "lines":
        lines = [e.get("textPayload", "") if isinstance(e, dict) else str(e) for e in items]
        raw = [line.encode("utf-8", "surrogatepass").replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    else:
        raw = [_json(e) for e in items]
        raw = [base64.b64encode(r) for r in raw] if mode == "base64" else raw
    written = io.BytesIO()
    stdin = io.TextIOWrapper(io.BytesIO(b"\n".join(raw) + b"\n"))
    with mock.patch.object(sys, "stdin", stdin), mock.patch.object(sys, "stdout", io.TextIOWrapper(written)):
        flags = {"json": [], "base64": ["--base64"], "lines": ["--lines"]}[mode]
        assert cli.main(["parse", *flags]) == 0
        sys.stdout.flush()
        out = written.getvalue().splitlines()
    assert len(out) == len(raw)
    for line in out:
        described = json.loads(line, parse_constant=not_strict_json)
        if described["outcome"] != "other":
            bigquery_takes(described["outcome"], described["row"])


@BUDGET
@given(st.sampled_from(["requestSize", "status", "responseSize", "latency"]), huge_numbers, st.booleans())
def test_numbers_of_any_size_in_any_numeric_field(name: str, value: Any, as_duration_object: bool) -> None:
    """The broad fuzz above rarely puts the worst number in the one field that reads it: here
    every example does (a 400-digit Duration once raised OverflowError, one of 310 digits is inf)."""
    entry = fx.load_balancer()
    entry["httpRequest"][name] = {"seconds": value, "nanos": 0} if name == "latency" and as_duration_object else value
    store = RecordingStore()
    status, answer = ingest.handle("POST", push_body_of(_json(entry)), {"Content-Type": "application/json"},
                                   runtime_with(store))  # fmt: skip
    assert status == 200, answer
    (outcome,) = store.outcomes
    bigquery_takes(outcome.kind, outcome.row)
