"""functions/syslog.py: LogEntry -> RFC 5424 message, checked against the strict reader written
from the RFC's ABNF (local/rfc5424.py): grammar, each severity, lengths, UTF-8, limits, framing."""

from __future__ import annotations

import json
import string
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from functions import syslog
from functions.outcome import NO_DATA, NOT_JSON, NOT_LOGENTRY
from local import entries as fx
from local import rfc5424

OPTIONS = syslog.Options()
NEWLINE = syslog.Options(framing="newline")


def render(entry: dict[str, Any] | bytes, options: syslog.Options = OPTIONS, publish_time: str | None = None) -> bytes:
    data = entry if isinstance(entry, bytes) else orjson.dumps(entry)
    rendered = syslog.render_data(data, options, publish_time)
    assert rendered.message is not None, rendered
    return rendered.message


def parsed(entry: dict[str, Any] | bytes, options: syslog.Options = OPTIONS) -> rfc5424.SyslogMessage:
    return rfc5424.parse(render(entry, options))


ENTRIES = {
    "load_balancer": fx.load_balancer(),
    "cdn_hit": fx.cdn_hit(),
    "regional_load_balancer": fx.regional_load_balancer(),
    "cloud_run": fx.cloud_run(),
    "app_engine": fx.app_engine(),
    "nginx": fx.gke_container(fx.NGINX_COMBINED),
    "nginx_json": fx.nginx_json(),
    "iap_audit": fx.iap_audit(),
    "gen1_function": fx.gen1_function(),
    "stack_trace": fx.stack_trace(),
    "cloud_run_app_log": fx.cloud_run_app_log(),
    "gke_node": fx.gke_node(),
}


@pytest.mark.parametrize("framing", syslog.FRAMINGS)
@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_every_fixture_renders_a_valid_rfc5424_message(name: str, framing: syslog.Framing) -> None:
    options = syslog.Options(framing=framing)
    message = render(ENTRIES[name], options)
    got = rfc5424.parse(message)
    assert got.version == 1
    assert got.facility == syslog.DEFAULT_FACILITY
    assert got.timestamp == "2026-11-20T09:15:02.123456Z"  # nanoseconds cut to RFC 5424's six digits
    assert got.insert_id == "1a2b3c4d5e6f"
    assert got.procid is None and got.msgid is None
    assert got.msg and not got.msg.startswith(b"\xef\xbb\xbf")  # MSG-ANY: no BOM
    framed = syslog.frame(message, framing)
    if framing == "newline":
        assert framed.count(b"\n") == 1 and framed.endswith(b"\n")
    else:
        assert rfc5424.split_octet_counted(framed) == [message]


@pytest.mark.parametrize(
    ("severity", "code"),
    [
        ("EMERGENCY", 0), ("ALERT", 1), ("CRITICAL", 2), ("ERROR", 3), ("WARNING", 4), ("NOTICE", 5), ("INFO", 6),
        ("DEBUG", 7), ("DEFAULT", 5), (None, 5), ("warning", 4), ("LOUD", 5),
        (800, 0), (700, 1), (600, 2), (500, 3), (400, 4), (300, 5), (200, 6), (100, 7), (0, 5), (450, 4), (True, 5),
    ],
)  # fmt: skip
def test_severity_sets_pri(severity: object, code: int) -> None:
    entry = fx.variant(fx.gen1_function(), severity=severity)
    for facility in (0, 1, 16, 23):
        got = parsed(entry, syslog.Options(facility=facility))
        assert (got.facility, got.severity) == (facility, code)
    assert render(entry, syslog.Options(facility=23)).startswith(b"<%d>1 " % (23 * 8 + code))


@pytest.mark.parametrize(
    ("fields", "publish_time", "expected"),
    [
        ({"timestamp": "2026-11-20T10:15:02.123456789+01:00"}, None, "2026-11-20T09:15:02.123456Z"),
        ({"timestamp": "2026-11-20T09:15:02Z"}, None, "2026-11-20T09:15:02.000000Z"),
        ({"timestamp": "not a time", "receiveTimestamp": "2026-11-20T09:15:03.5Z"}, None, "2026-11-20T09:15:03.500000Z"),
        ({"timestamp": None, "receiveTimestamp": None}, "2026-11-20T09:15:04.25Z", "2026-11-20T09:15:04.250000Z"),
        ({"timestamp": None, "receiveTimestamp": None}, None, None),
    ],
)  # fmt: skip
def test_timestamp_is_the_entrys_in_utc(fields: dict[str, Any], publish_time: str | None, expected: str | None) -> None:
    entry = fx.variant(fx.gen1_function(), **{k: v for k, v in fields.items() if v is not None})
    for key, value in fields.items():
        if value is None:
            entry.pop(key, None)
    message = render(entry, OPTIONS, publish_time)
    assert rfc5424.parse(message).timestamp == expected


@pytest.mark.parametrize(
    ("name", "hostname", "app_name"),
    [
        ("nginx", "nginx-6d4cf56db6-8xk2p", "nginx"),  # GKE: the pod, the container
        ("stack_trace", "blog-api-6d4cf56db6-8xk2p", "blog-api"),
        ("gke_node", "gke-blog-pool-1-a1b2c3d4-x9z8", "kubelet"),
        ("cloud_run", "comments-api", "run.googleapis.com/requests"),  # Cloud Run: the service, the log
        ("cloud_run_app_log", "comments-api", "run.googleapis.com/stdout"),
        ("app_engine", "default", "appengine.googleapis.com/request_log"),
        ("load_balancer", "k8s2-fs-blog-ingress", "requests"),
        ("gen1_function", "thumbnail", "cloudfunctions.googleapis.com/cloud-functions"),
        ("iap_audit", fx.PROJECT, "cloudaudit.googleapis.com/data_access"),  # no name in the resource: the project
    ],
)
def test_hostname_and_app_name_come_from_the_resource(name: str, hostname: str, app_name: str) -> None:
    got = parsed(ENTRIES[name])
    assert (got.hostname, got.app_name) == (hostname, app_name)


def test_header_fields_are_printable_ascii_within_the_rfc_lengths() -> None:
    entry = fx.gke_container("hi", container="ç" * 60)
    entry["resource"]["labels"]["pod_name"] = "pod with spaces/" + "x" * 300
    entry["logName"] = "projects/p/logs/" + "y" * 100
    got = parsed(entry)
    assert got.hostname == ("pod_with_spaces/" + "x" * 300)[:255]
    assert got.app_name == "_" * 48
    bare = parsed({"textPayload": "no resource, no logName", "severity": "INFO"})
    assert (bare.hostname, bare.app_name) == (None, None)  # NILVALUE


def test_structured_data_carries_insert_id_trace_and_span_escaped() -> None:
    got = parsed(ENTRIES["load_balancer"])
    assert got.structured_data == {
        syslog.SD_ID: {
            "insertId": "1a2b3c4d5e6f",
            "trace": f"projects/{fx.PROJECT}/traces/4bf92f3577b34da6a3ce929d0e0e4736",
            "spanId": "00f067aa0ba902b7",
        }
    }
    odd = fx.variant(fx.gen1_function(), insertId='a"b]c\\d é')
    assert parsed(odd).insert_id == 'a"b]c\\d é'
    assert b'insertId="a\\"b\\]c\\\\d \xc3\xa9"' in render(odd)
    none = parsed(fx.variant(fx.gen1_function(), insertId=None))
    assert none.structured_data == {}  # NILVALUE


@pytest.mark.parametrize(
    ("name", "msg"),
    [
        ("nginx", fx.NGINX_COMBINED.encode()),  # textPayload without its trailing newline
        ("load_balancer", b"GET 200 25.41 KB 12 ms Go-http-client/1.1 https://blog.example.com/posts/hello-world?utm_source=feed"),
        ("cdn_hit", b"GET 200 10.34 KB 0 ms Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 https://static.example.com/img/logo.png"),
        ("cloud_run", b"POST 201 402 B 188 ms Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 https://comments-api-abcdefghij-ew.a.run.app/v1/comments"),
        ("app_engine", b"GET 302 215 B 23 ms curl/8.5.0 /login?next=%2Fadmin"),
        ("cloud_run_app_log", b"cache miss ratio high"),  # jsonPayload.message
        ("gen1_function", b"Function execution started"),
    ],
)  # fmt: skip
def test_msg_is_the_text_a_request_summary_or_the_json_message(name: str, msg: bytes) -> None:
    assert parsed(ENTRIES[name]).msg == msg


def test_msg_falls_back_to_compact_json() -> None:
    assert parsed(ENTRIES["nginx_json"]).msg == orjson.dumps(ENTRIES["nginx_json"]["jsonPayload"])
    assert parsed(ENTRIES["iap_audit"]).msg == orjson.dumps(ENTRIES["iap_audit"]["protoPayload"])
    unreadable = fx.variant(fx.cloud_run(), httpRequest={"requestMethod": "GET", "status": {"code": 200}})
    assert parsed(unreadable).msg == b'{"requestMethod":"GET","status":{"code":200}}'
    assert parsed(fx.variant(fx.gen1_function(), textPayload=None)).msg is None  # no payload: no MSG
    assert parsed(fx.variant(fx.gen1_function(), textPayload="\n")).msg is None


@pytest.mark.parametrize(
    ("size", "latency", "shown"),
    [(0, "0s", "0 B 0 ms"), (1023, "0.0009s", "1023 B 1 ms"), (1024, "0.999s", "1.00 KB 999 ms"),
     (5 * 1024**2 + 1, "1.5s", "5.00 MB 1.50 s"), (3 * 1024**4, "61s", "3.00 TB 61.00 s")],
)  # fmt: skip
def test_request_summary_sizes_and_latencies(size: int, latency: str, shown: str) -> None:
    entry = fx.variant(fx.cloud_run(), httpRequest={"requestMethod": "GET", "status": 200, "responseSize": str(size),
                                                    "latency": latency, "requestUrl": "https://x/"})  # fmt: skip
    assert parsed(entry).msg == f"GET 200 {shown} https://x/".encode()


def test_line_feeds_stay_under_octet_counting_and_are_escaped_under_newline_framing() -> None:
    octet = parsed(ENTRIES["stack_trace"])
    assert octet.msg is not None and octet.msg.count(b"\n") == 2
    newline = render(ENTRIES["stack_trace"], NEWLINE)
    assert b"\n" not in newline
    assert b"boom#012\tat com.example.Blog.render(Blog.java:42)#012\tat" in newline
    odd_id = fx.variant(fx.gen1_function(), insertId="a\nb")
    assert b"\n" not in render(odd_id, NEWLINE)


def test_invalid_utf8_and_lone_surrogates_never_stop_an_entry() -> None:
    text = orjson.dumps(fx.gen1_function()).replace(b"Function execution started", b"caf\xe9 \xff ok")
    assert parsed(text).msg == "caf\ufffd \ufffd ok".encode()
    surrogate = orjson.dumps(fx.gen1_function()).replace(b"Function execution started", b"\\ud800 alone")
    assert parsed(surrogate).msg == b"? alone"


@pytest.mark.parametrize("framing", syslog.FRAMINGS)
@pytest.mark.parametrize("max_bytes", [syslog.MIN_MAX_BYTES, 5000, syslog.DEFAULT_MAX_BYTES])
def test_long_messages_are_cut_with_a_marker_within_the_maximum(max_bytes: int, framing: syslog.Framing) -> None:
    options = syslog.Options(max_bytes=max_bytes, framing=framing)
    # 3-byte characters and line feeds around the cut: neither may be split.
    entry = fx.variant(fx.gen1_function(), textPayload=("€\n" * 80_000))
    message = render(entry, options)
    assert max_bytes - 40 <= len(message) <= max_bytes
    got = rfc5424.parse(message)
    assert got.msg is not None
    text = got.msg.decode("utf-8")  # still valid UTF-8
    body, _, marker = text.rpartition(" [truncated: ")
    assert marker.endswith(" more bytes]")
    sent = ("€\n" * 80_000).rstrip("\n").encode()  # the trailing line feed is not part of the message
    escaped_total = len(sent.replace(b"\n", b"#012") if framing == "newline" else sent)
    assert len(body.encode()) + int(marker.split()[0]) == escaped_total
    if framing == "newline":
        assert body.endswith(("€", "#012"))
    exact = fx.variant(fx.gen1_function(), textPayload="x" * 10)
    room = max_bytes - len(render(exact, options)) + 10
    fits = render(fx.variant(fx.gen1_function(), textPayload="x" * room), options)
    assert len(fits) == max_bytes and b"truncated" not in fits  # exactly the maximum is not cut


def test_long_structured_data_values_are_capped_so_the_header_always_fits() -> None:
    entry = fx.variant(fx.gen1_function(), insertId='"' * 1000, trace="t" * 1000, spanId="é" * 1000)
    message = render(entry, syslog.Options(max_bytes=syslog.MIN_MAX_BYTES))
    assert len(message) <= syslog.MIN_MAX_BYTES
    assert rfc5424.parse(message).insert_id == '"' * 128


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", NO_DATA),
        (b"{broken", NOT_JSON),
        (b"\xff\xfe not json", NOT_JSON),
        (b"[" * 100_000, NOT_JSON),
        (b"[1, 2]", NOT_LOGENTRY),
        (b'"text"', NOT_LOGENTRY),
        (b'{"no": "LogEntry fields"}', NOT_LOGENTRY),
    ],
)
def test_what_is_not_a_logentry_is_skipped_with_a_reason(data: bytes, reason: str) -> None:
    rendered = syslog.render_data(data, OPTIONS)
    assert (rendered.message, rendered.skipped) == (None, reason)
    assert rendered.detail


def test_sort_key_is_the_event_time() -> None:
    early = syslog.render_data(orjson.dumps(fx.variant(fx.gen1_function(), timestamp="2026-11-20T09:00:00Z")), OPTIONS)
    late = syslog.render_data(orjson.dumps(fx.variant(fx.gen1_function(), timestamp="2026-11-20T10:00:00Z")), OPTIONS)
    assert early.sort_key < late.sort_key


def test_octet_counting_counts_bytes_not_characters() -> None:
    message = render(fx.variant(fx.gen1_function(), textPayload="ünïcödé"))
    framed = syslog.frame(message, "octet-counting")
    assert framed.startswith(b"%d <" % len(message))
    assert rfc5424.split_octet_counted(framed + framed) == [message, message]


def test_the_strict_reader_rejects_what_a_receiver_could_misread() -> None:
    good = b'<14>1 2026-11-20T09:15:02.123456Z h a - - [x@1 k="v"] m'
    assert rfc5424.parse(good).msg == b"m"
    bad = [
        b"<192>1 2026-11-20T09:15:02Z h a - - - m",  # PRI out of range
        b"<14>1 2026-11-20T09:15:02.1234567Z h a - - - m",  # seven fractional digits
        b"<14>1 2026-02-30T09:15:02Z h a - - - m",  # no such day
        b"<14>1 2026-11-20T09:15:02Z h\xc3\xa9 a - - - m",  # non-ASCII hostname
        b"<14>1 2026-11-20T09:15:02Z h " + b"a" * 49 + b" - - - m",  # APP-NAME too long
        b'<14>1 2026-11-20T09:15:02Z h a - - [x@1 k="v]"] m',  # unescaped ]
        b'<14>1 2026-11-20T09:15:02Z h a - - [x@y k="v"] m',  # enterprise number not a number
        b'<14>1 2026-11-20T09:15:02Z h a - - [x@1 k="v"][x@1 k="w"] m',  # SD-ID twice
        b"<14>1 2026-11-20T09:15:02Z h a - -",  # no structured data
    ]
    for message in bad:
        with pytest.raises(rfc5424.SyslogSyntaxError):
            rfc5424.parse(message)


# --- properties ----------------------------------------------------------------------------

_printable = st.text(alphabet=string.printable, max_size=30)
_any_text = st.text(max_size=300)
_label_values = st.one_of(st.none(), _any_text, st.integers(), st.lists(st.integers(), max_size=2))
_entries = st.fixed_dictionaries(
    {},
    optional={
        "insertId": st.one_of(_any_text, st.integers(), st.none()),
        "timestamp": st.one_of(_printable, st.datetimes().map(lambda d: d.isoformat() + "Z")),
        "severity": st.one_of(st.sampled_from(["DEBUG", "INFO", "ERROR", "DEFAULT", "bogus"]), st.integers()),
        "logName": st.one_of(_any_text, st.just("projects/p/logs/a%2Fb")),
        "resource": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {"type": st.sampled_from(["k8s_container", "cloud_run_revision", "gce_instance", "x"])},
                optional={"labels": st.dictionaries(_printable, _label_values, max_size=4)},
            ),
        ),
        "labels": st.dictionaries(_printable, _label_values, max_size=3),
        "textPayload": _any_text,
        "jsonPayload": st.dictionaries(_printable, _label_values, max_size=4),
        "httpRequest": st.dictionaries(
            st.sampled_from(["requestMethod", "status", "responseSize", "latency", "userAgent", "requestUrl"]),
            _label_values,
        ),
        "trace": _any_text,
    },
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(entry=_entries, framing=st.sampled_from(syslog.FRAMINGS), max_bytes=st.sampled_from([2048, 3000, 100_000]))
def test_any_logentry_renders_valid_and_within_the_maximum(
    entry: dict[str, Any], framing: syslog.Framing, max_bytes: int
) -> None:
    entry.setdefault("severity", "INFO")  # at least one LogEntry field
    options = syslog.Options(max_bytes=max_bytes, framing=framing)
    message = render(json.dumps(entry, ensure_ascii=False).encode(), options)  # orjson refuses ints past 64 bits
    assert len(message) <= max_bytes
    rfc5424.parse(message)
    if framing == "newline":
        assert b"\n" not in message


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.binary(max_size=400))
def test_any_bytes_render_or_skip_without_raising(data: bytes) -> None:
    rendered = syslog.render_data(data, OPTIONS)
    assert (rendered.message is None) != (rendered.skipped is None)
    if rendered.message is not None:
        rfc5424.parse(rendered.message)
