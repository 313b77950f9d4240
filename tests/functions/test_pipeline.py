"""Message -> outcome, end to end through the pure core, for every source and edge case."""

from __future__ import annotations

import base64
import json

import orjson
import pytest

from functions.message import Message
from functions.pipeline import process
from local import entries as fx


def test_load_balancer_entry_becomes_a_typed_row() -> None:
    outcome = process(fx.pushed(fx.load_balancer()))
    assert outcome.kind == "http"
    row = outcome.row
    assert row is not None
    assert row["timestamp"] == "2026-11-20T09:15:02.123456Z"
    assert row["receive_timestamp"] == "2026-11-20T09:15:02.456789Z"
    assert row["publish_time"] == "2026-11-20T09:15:03.500000Z"
    assert row["insert_id"] == "1a2b3c4d5e6f"
    assert row["message_id"] == "9876543210"
    assert row["log_id"] == "requests"
    assert row["resource_type"] == "http_load_balancer"
    assert row["project_id"] == fx.PROJECT
    assert row["span_id"] == "00f067aa0ba902b7"
    assert orjson.loads(row["resource_labels"])["url_map_name"] == "k8s2-um-blog-ingress"
    assert row["source"] == "httpRequest"
    assert (row["method"], row["scheme"], row["host"], row["path"], row["query"]) == (
        "GET", "https", "blog.example.com", "/posts/hello-world", "utm_source=feed",
    )  # fmt: skip
    assert (row["status"], row["request_size"], row["response_size"]) == (200, 312, 26020)
    assert row["latency_seconds"] == pytest.approx(0.012345)
    assert (row["remote_ip"], row["server_ip"]) == ("203.0.113.7", "10.8.0.4")
    assert row["cache_hit"] is None
    assert outcome.log_id == "requests"
    assert outcome.event_time == row["timestamp"]


def test_regional_load_balancer_strips_bracketed_ipv6_port_and_decodes_log_id() -> None:
    row = process(fx.pushed(fx.regional_load_balancer())).row
    assert row is not None
    assert row["remote_ip"] == "2001:db8::17"
    assert row["log_id"] == "loadbalancing.googleapis.com/external_regional_requests"
    assert row["resource_type"] == "http_external_regional_lb_rule"


@pytest.mark.parametrize(
    "entry",
    [
        fx.iap_audit(),
        fx.gen1_function(),
        fx.gke_container(fx.NGINX_ERROR),
        fx.gke_container("2026-11-20 09:15:02.123 DEBUG 1 --- [nio-8080-exec-1] o.s.web.servlet: Completed 200 OK"),
        fx.variant(fx.cloud_run(), httpRequest={}, textPayload="listening on :8080"),
        fx.variant(fx.gke_container(""), textPayload=None, jsonPayload={"level": "info", "status": 200}),
    ],
    ids=["audit-nested-httpRequest", "gen1-function", "nginx-error", "app-line", "empty-httpRequest", "json-app-log"],
)
def test_entries_that_are_not_requests_are_other(entry: dict[str, object]) -> None:
    outcome = process(fx.pushed(entry))
    assert (outcome.kind, outcome.row) == ("other", None)
    assert outcome.log_id is not None
    assert outcome.event_time is not None


def test_gen2_function_with_text_and_http_request_uses_the_http_request() -> None:
    entry = fx.variant(fx.cloud_run(), textPayload="POST 201 402 B 188 ms curl/8.5.0 https://...")
    row = process(fx.pushed(entry)).row
    assert row is not None
    assert row["source"] == "httpRequest"


def test_timestamp_falls_back_to_receive_then_publish_time() -> None:
    no_time = fx.variant(fx.load_balancer(), timestamp="INVALID_TIMESTAMP")
    row = process(fx.pushed(no_time)).row
    assert row is not None
    assert row["timestamp"] == "2026-11-20T09:15:02.456789Z"
    neither = fx.variant(fx.load_balancer(), timestamp=None, receiveTimestamp=None)
    row = process(fx.pushed(neither)).row
    assert row is not None
    assert row["timestamp"] == "2026-11-20T09:15:03.500000Z"


def test_offset_timestamps_are_converted_to_utc() -> None:
    row = process(fx.pushed(fx.variant(fx.load_balancer(), timestamp="2026-11-20T10:15:02.5+01:00"))).row
    assert row is not None
    assert row["timestamp"] == "2026-11-20T09:15:02.500000Z"


@pytest.mark.parametrize(
    "bad", ["2026-11-20T10:15:02+99:99", "2026-11-20T10:15:02+24:00", "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01", "2026-02-29T00:00:00Z"],
)  # fmt: skip
def test_timestamps_outside_what_bigquery_holds_fall_back_to_receive_time(bad: str) -> None:
    row = process(fx.pushed(fx.variant(fx.load_balancer(), timestamp=bad))).row
    assert row is not None
    assert row["timestamp"] == "2026-11-20T09:15:02.456789Z"


def test_cloud_run_labels_and_regional_log_id() -> None:
    row = process(fx.pushed(fx.cloud_run())).row
    assert row is not None
    assert orjson.loads(row["labels"]) == {"instanceId": "00c61b117c"}
    assert row["log_id"] == "run.googleapis.com/requests"


def test_project_id_comes_from_the_log_name_and_an_empty_one_is_null() -> None:
    entry = fx.variant(fx.load_balancer(), resource={"type": "http_load_balancer"})
    row = process(fx.pushed(entry)).row
    assert row is not None
    assert row["project_id"] == fx.PROJECT
    row = process(fx.pushed(fx.variant(entry, logName="projects//logs/requests"))).row
    assert row is not None
    assert (row["project_id"], row["log_id"]) == (None, "requests")


def test_labels_nested_too_deep_to_write_are_null_and_the_row_kept() -> None:
    deep: dict[str, object] = {"a": "b"}
    for _ in range(300):
        deep = {"k": deep}
    data = json.dumps(fx.variant(fx.load_balancer(), labels=deep)).encode()  # orjson refuses to write it
    row = process(Message(data=data)).row
    assert row is not None
    assert (row["labels"], row["status"]) == (None, 200)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not_base_64", "bad_base64"),
        (b"aGVsbG8=\n", "bad_base64"),
        (base64.b64encode(b"{not json"), "not_json"),
        (base64.b64encode(b"\xc3\x28"), "not_utf8"),
        (base64.b64encode(b'"just a string"'), "not_logentry"),
        (base64.b64encode(b"[1, 2]"), "not_logentry"),
        (base64.b64encode(b'{"hello": "world"}'), "not_logentry"),
        (base64.b64encode(b""), "not_json"),
    ],
)
def test_malformed_data_becomes_an_error_row_with_its_reason(data: bytes, reason: str) -> None:
    message = Message(data=data, message_id="m-1", publish_time="2026-11-20T09:15:03Z", data_is_base64=True)
    outcome = process(message)
    assert (outcome.kind, outcome.reason) == ("error", reason)
    row = outcome.row
    assert row is not None
    assert (row["reason"], row["message_id"], row["publish_time"]) == (reason, "m-1", "2026-11-20T09:15:03.000000Z")
    assert row["message"] == outcome.detail
    assert base64.b64decode(row["payload_bytes"]) == outcome.payload


def test_wrong_typed_field_is_a_bad_field_error_naming_the_field() -> None:
    entry = fx.load_balancer()
    entry["httpRequest"]["status"] = {"code": 200}
    outcome = process(fx.pushed(entry))
    assert (outcome.kind, outcome.reason) == ("error", "bad_field")
    assert outcome.detail is not None
    assert "httpRequest.status" in outcome.detail
    assert process(fx.pushed(fx.variant(fx.load_balancer(), httpRequest="GET /"))).reason == "bad_field"
    assert process(fx.pushed(fx.variant(fx.load_balancer(), resource=["x"]))).reason == "bad_field"


def test_a_message_without_data_is_an_error() -> None:
    outcome = process(Message(data=None, message_id="m-2", data_is_base64=True))
    assert (outcome.kind, outcome.reason) == ("error", "no_data")
    assert outcome.row is not None
    assert outcome.row["payload_bytes"] is None


def test_oversized_data_is_refused_before_decoding() -> None:
    big = fx.data(fx.gke_container('1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET /' + "a" * 5000 + ' HTTP/1.1" 414 0'))
    assert process(fx.pushed(big), max_bytes=4096).reason == "too_large"
    assert process(Message(data=big), max_bytes=4096).reason == "too_large"
    assert process(fx.pushed(big), max_bytes=len(big)).kind == "http"


def test_error_rows_cut_huge_payloads_but_the_outcome_keeps_every_byte() -> None:
    huge = b"x" * (3 * 1024 * 1024)
    outcome = process(Message(data=huge))
    assert outcome.reason == "not_json"
    assert outcome.payload == huge
    assert outcome.row is not None
    assert len(base64.b64decode(outcome.row["payload_bytes"])) == 1024 * 1024
    assert "the archive holds it whole" in outcome.row["message"]


def test_pulled_messages_are_raw_bytes() -> None:
    outcome = process(Message(data=fx.data(fx.cloud_run()), message_id="p-1"))
    assert outcome.kind == "http"
    assert outcome.payload == fx.data(fx.cloud_run())
