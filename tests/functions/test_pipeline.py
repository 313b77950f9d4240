"""Message -> outcome, end to end through the pure core, for every source and edge case."""

from __future__ import annotations

import base64

import orjson
import pytest

from functions.message import Message
from functions.pipeline import process
from tests.functions import fixtures as fx


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


def test_cdn_hit_keeps_cache_fields_and_zero_latency() -> None:
    row = process(fx.pushed(fx.cdn_hit())).row
    assert row is not None
    assert (row["cache_hit"], row["cache_lookup"]) == (True, True)
    assert row["latency_seconds"] == 0.0
    assert row["remote_ip"] == "2001:db8::4"
    assert row["server_ip"] is None


def test_regional_load_balancer_strips_bracketed_ipv6_port_and_decodes_log_id() -> None:
    row = process(fx.pushed(fx.regional_load_balancer())).row
    assert row is not None
    assert row["remote_ip"] == "2001:db8::17"
    assert row["log_id"] == "loadbalancing.googleapis.com/external_regional_requests"
    assert row["resource_type"] == "http_external_regional_lb_rule"


def test_cloud_run_request() -> None:
    row = process(fx.pushed(fx.cloud_run())).row
    assert row is not None
    assert (row["method"], row["status"], row["referer"]) == (
        "POST", 201, "https://blog.example.com/posts/hello-world",
    )  # fmt: skip
    assert row["latency_seconds"] == pytest.approx(0.187654321)
    assert orjson.loads(row["labels"]) == {"instanceId": "00c61b117c"}


def test_app_engine_request_log_reads_the_proto_payload() -> None:
    row = process(fx.pushed(fx.app_engine())).row
    assert row is not None
    assert row["source"] == "appengine"
    assert (row["method"], row["url"], row["path"], row["query"]) == (
        "GET",
        "/login?next=%2Fadmin",
        "/login",
        "next=%2Fadmin",
    )
    assert (row["host"], row["status"], row["response_size"]) == ("blog-prod-123.ew.r.appspot.com", 302, 215)
    assert row["remote_ip"] == "192.0.2.44"
    assert row["protocol"] == "HTTP/1.1"


@pytest.mark.parametrize(
    ("line", "source", "expected"),
    [
        (fx.NGINX_COMBINED, "combined", {"method": "GET", "path": "/posts/hello-world", "status": 200,
                                         "response_size": 10589, "remote_ip": "198.51.100.23",
                                         "referer": "https://www.google.com/"}),
        (fx.NGINX_MAIN, "combined", {"remote_ip": "198.51.100.23", "user_agent":
                                     "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"}),
        (fx.INGRESS_NGINX, "ingress-nginx", {"method": "POST", "query": "post=42", "status": 201,
                                             "request_size": 1284, "latency_seconds": 0.188, "protocol": "HTTP/2.0"}),
        (fx.APACHE_COMMON, "common", {"method": "GET", "status": 200, "response_size": 2326, "user_agent": None}),
        (fx.APACHE_VHOST_COMBINED, "combined", {"host": "blog.example.com", "status": 304, "response_size": None,
                                                "referer": None, "remote_ip": "192.0.2.1"}),
        (fx.ENVOY_DEFAULT, "envoy", {"host": "shop.example.com", "query": "page=2", "response_size": 1432,
                                     "request_size": 0, "latency_seconds": 0.012, "remote_ip": "203.0.113.9"}),
        (fx.ISTIO_DEFAULT, "envoy", {"host": "httpbin", "status": 418, "latency_seconds": 0.004,
                                     "remote_ip": "10.44.1.23"}),
    ],
)  # fmt: skip
def test_access_lines_in_text_payload(line: str, source: str, expected: dict[str, object]) -> None:
    outcome = process(fx.pushed(fx.gke_container(line)))
    assert outcome.kind == "http"
    assert outcome.row is not None
    assert outcome.row["source"] == source
    assert outcome.row["resource_type"] == "k8s_container"
    assert {k: outcome.row[k] for k in expected} == expected


def test_nginx_json_payload() -> None:
    row = process(fx.pushed(fx.nginx_json())).row
    assert row is not None
    assert row["source"] == "json"
    assert (row["scheme"], row["host"], row["path"], row["query"]) == (
        "https",
        "blog.example.com",
        "/tags/python",
        "page=3",
    )
    assert (row["status"], row["response_size"], row["latency_seconds"], row["referer"]) == (200, 5120, 0.003, None)


def test_http_request_shaped_json_payload() -> None:
    entry = fx.variant(fx.gke_container(""), textPayload=None, jsonPayload={
        "message": "handled", "httpRequest": {"requestMethod": "DELETE", "requestUrl": "/api/x/1", "status": 204},
    })  # fmt: skip
    row = process(fx.pushed(entry)).row
    assert row is not None
    assert (row["source"], row["method"], row["status"], row["host"]) == ("json", "DELETE", 204, None)


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


def test_sizes_and_status_as_strings_and_floats_are_numbers() -> None:
    entry = fx.load_balancer()
    entry["httpRequest"].update(status="503", responseSize=2326.0, requestSize=" 7 ")
    row = process(fx.pushed(entry)).row
    assert row is not None
    assert (row["status"], row["response_size"], row["request_size"]) == (503, 2326, 7)


def test_absent_zero_fields_are_null() -> None:
    entry = fx.variant(fx.load_balancer(), httpRequest={"requestMethod": "GET", "requestUrl": "/", "status": 200})
    row = process(fx.pushed(entry)).row
    assert row is not None
    assert all(row[k] is None for k in ("request_size", "response_size", "latency_seconds", "user_agent", "remote_ip"))


@pytest.mark.parametrize(
    ("latency", "seconds"),
    [("0s", 0.0), ("1.5s", 1.5), (" 123 s ", 123.0), ({"seconds": 1, "nanos": 344200000}, 1.3442), ("1min", None)],
)
def test_latency_forms(latency: object, seconds: float | None) -> None:
    entry = fx.load_balancer()
    entry["httpRequest"]["latency"] = latency
    row = process(fx.pushed(entry)).row
    assert row is not None
    assert row["latency_seconds"] == (pytest.approx(seconds) if seconds is not None else None)


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
