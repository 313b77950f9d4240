"""`ingest` in process, through functions-framework's Flask test client (tests/sinks/entrypoints.py):
every way a delivery arrives, every body a misconfigured caller can send, every failure, and
what each answers, stores and logs. The last tests run it with the real Store on the emulators."""

from __future__ import annotations

import base64
import time

import orjson
import pytest

from functions import user_agent
from functions.config import ConfigError
from functions.outcome import INTERNAL_ERROR
from local import entries as fx
from sinks.clients import make_bigquery_client
from sinks.errors import RetryableError
from sinks.runtime import SUMMARY_INTERVAL_SECONDS, Runtime
from tests.sinks.conftest import Destinations
from tests.sinks.entrypoints import Clock, RecordingStore, app_for, json_lines, push_body, runtime_with

JSON = {"Content-Type": "application/json"}
SUBSCRIPTION = "projects/blog-prod-123/subscriptions/logexport-ingest"


def post(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, object]]:
    client = app_for("ingest", runtime, monkeypatch).test_client()
    response = client.post("/", data=body, headers=JSON if headers is None else headers)
    assert response.is_json, response.data[:300]
    return response.status_code, response.get_json()


def test_a_push_delivery_is_stored_once_and_acked(monkeypatch: pytest.MonkeyPatch) -> None:
    store = RecordingStore()
    status, answer = post(runtime_with(store), monkeypatch, push_body(fx.data(fx.load_balancer())))
    assert (status, answer["outcome"], answer["message_id"]) == (200, "http", "2070443601311540")
    (outcome,) = store.outcomes
    assert outcome.message.subscription == SUBSCRIPTION
    assert outcome.row is not None and outcome.row["status"] == 200


def test_poison_content_is_stored_and_acked_not_failed_forever(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = fx.variant(fx.load_balancer(), httpRequest={"requestUrl": "/", "status": 200,
                                                         "latency": {"seconds": "9" * 400}})  # fmt: skip
    store = RecordingStore()
    status, _ = post(runtime_with(store), monkeypatch, push_body(fx.data(entry)))
    assert status == 200
    assert len(store.outcomes) == 1


def test_a_parser_bug_becomes_an_internal_error_row_and_a_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(entry: object) -> None:
        raise ZeroDivisionError("a parser bug")

    monkeypatch.setattr(user_agent, "columns", boom)  # on both readers' way (fast path and general)
    store = RecordingStore()
    data = fx.data(fx.load_balancer())
    status, answer = post(runtime_with(store), monkeypatch, push_body(data))
    assert (status, answer["reason"]) == (200, INTERNAL_ERROR)
    (outcome,) = store.outcomes
    assert outcome.row is not None and outcome.row["message"].startswith("ZeroDivisionError: a parser bug (at ")
    assert base64.b64decode(outcome.row["payload_bytes"]) == data
    (line,) = json_lines(capsys.readouterr().out)
    assert (line["severity"], line["message_id"], line["reason"]) == ("WARNING", "2070443601311540", INTERNAL_ERROR)


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (push_body("é"), "application/json", "bad_base64"),  # data not ASCII
        (push_body(None), "application/json", "no_data"),  # functions-framework refused it with 400
        (b"[1, 2, 3]", "application/json", "bad_envelope"),  # a list: 500 inside functions-framework
        (b'{"message": [1]}', "application/json", "bad_envelope"),
        (b"GET / HTTP/1.1 200", "text/plain", "bad_envelope"),  # 415 before
        (b"\xff\xfe\x00 not UTF-8", "application/octet-stream", "bad_envelope"),
        (b"", "application/json", "bad_envelope"),
    ],
)
def test_bodies_a_misconfigured_caller_sends_become_error_rows(
    monkeypatch: pytest.MonkeyPatch, body: bytes, content_type: str, reason: str
) -> None:
    store = RecordingStore()
    status, answer = post(runtime_with(store), monkeypatch, body, {"Content-Type": content_type})
    assert (status, answer["outcome"], answer["reason"]) == (200, "error", reason)
    (outcome,) = store.outcomes
    assert outcome.row is not None
    if reason == "bad_envelope":  # the bytes received, not a repr of what was parsed
        assert outcome.payload == body
        assert base64.b64decode(outcome.row["payload_bytes"]) == body


def test_a_valid_envelope_sent_as_text_plain_is_read_all_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    store = RecordingStore()
    status, answer = post(
        runtime_with(store), monkeypatch, push_body(fx.data(fx.cloud_run())), {"Content-Type": "text/plain"}
    )
    assert (status, answer["outcome"]) == (200, "http")


@pytest.mark.parametrize(
    "message",
    [{"data": ["not", "text"]}, {"data": "", "attributes": {"k": 1}}, {"attributes": ["a"]}],
)
def test_a_bad_envelope_row_keeps_the_message_id_and_the_bytes(
    monkeypatch: pytest.MonkeyPatch, message: dict[str, object]
) -> None:
    body = orjson.dumps({"message": {"messageId": "m-77", "publishTime": "2026-11-20T09:15:03Z", **message},
                         "subscription": SUBSCRIPTION})  # fmt: skip
    store = RecordingStore()
    status, answer = post(runtime_with(store), monkeypatch, body)
    assert (status, answer["reason"], answer["message_id"]) == (200, "bad_envelope", "m-77")
    (outcome,) = store.outcomes
    assert outcome.row is not None
    assert (outcome.row["message_id"], outcome.row["subscription"]) == ("m-77", SUBSCRIPTION)
    assert base64.b64decode(outcome.row["payload_bytes"]) == body


def test_eventarc_binary_mode_cloudevent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eventarc's Pub/Sub trigger: binary content mode, the push envelope as the body
    (cloud.google.com/eventarc/docs/cloudevents#pubsub)."""
    store = RecordingStore()
    headers = {
        "Content-Type": "application/json",
        "ce-specversion": "1.0",
        "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
        "ce-source": "//pubsub.googleapis.com/projects/blog-prod-123/topics/logexport-logs",
        "ce-id": "2070443601311540",
    }
    status, answer = post(runtime_with(store), monkeypatch, push_body(fx.data(fx.app_engine())), headers)
    assert (status, answer["outcome"]) == (200, "http")
    assert store.outcomes[0].message.subscription == SUBSCRIPTION  # the framework's conversion dropped it


@pytest.mark.parametrize("encoding", ["data", "data_base64"])
def test_structured_mode_cloudevent(monkeypatch: pytest.MonkeyPatch, encoding: str) -> None:
    envelope = push_body(fx.data(fx.cdn_hit()))
    event: dict[str, object] = {
        "specversion": "1.0", "type": "google.cloud.pubsub.topic.v1.messagePublished",
        "source": "//pubsub.googleapis.com/projects/blog-prod-123/topics/logexport-logs", "id": "2070443601311540",
    }  # fmt: skip
    event[encoding] = orjson.loads(envelope) if encoding == "data" else base64.b64encode(envelope).decode()
    store = RecordingStore()
    headers = {"Content-Type": "application/cloudevents+json; charset=utf-8"}
    status, answer = post(runtime_with(store), monkeypatch, orjson.dumps(event), headers)
    assert (status, answer["outcome"]) == (200, "http")


def test_a_structured_cloudevent_without_an_envelope_keeps_the_event_id(monkeypatch: pytest.MonkeyPatch) -> None:
    event = {"specversion": "1.0", "type": "google.cloud.pubsub.topic.v1.messagePublished", "id": "ev-1",
             "source": "//pubsub.googleapis.com/projects/p/topics/t", "data": ["wrong"]}  # fmt: skip
    store = RecordingStore()
    status, answer = post(
        runtime_with(store), monkeypatch, orjson.dumps(event), {"Content-Type": "application/cloudevents+json"}
    )
    assert (status, answer["reason"], answer["message_id"]) == (200, "bad_envelope", "ev-1")


def test_only_post_is_a_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    store = RecordingStore()
    client = app_for("ingest", runtime_with(store), monkeypatch).test_client()
    assert client.get("/").status_code == 405
    assert store.outcomes == []


def test_a_failing_dependency_fails_the_delivery_with_one_structured_error_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = RecordingStore(fail=RetryableError("insertAll into p.logs.http_requests: 503 backend unavailable"))
    headers = {**JSON, "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    status, answer = post(runtime_with(store), monkeypatch, push_body(fx.data(fx.load_balancer())), headers)
    assert (status, answer["reason"], answer["stage"]) == (503, "not_stored", "store")
    (line,) = json_lines(capsys.readouterr().out)
    assert line["severity"] == "ERROR"
    assert (line["message_id"], line["reason"], line["stage"]) == ("2070443601311540", "not_stored", "store")
    assert "503 backend unavailable" in line["error"]
    assert line["logging.googleapis.com/trace"] == "projects/blog-prod-123/traces/0af7651916cd43dd8448eb211c80319c"
    assert line["logging.googleapis.com/labels"] == {"logexport_component": "ingest"}
    assert "outcome" not in line  # the local harness counts lines with an outcome as stored


def test_a_bug_in_the_store_fails_the_delivery_with_500(monkeypatch: pytest.MonkeyPatch) -> None:
    store = RecordingStore(fail=KeyError("row"))
    status, answer = post(runtime_with(store), monkeypatch, push_body(fx.data(fx.load_balancer())))
    assert (status, answer["reason"], answer["stage"]) == (500, INTERNAL_ERROR, "store")
    assert "KeyError" in str(answer["error"])


def test_a_configuration_error_answers_500_with_json_every_time(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = Runtime(ConfigError("WRITE_BUDGET_SECONDS must be a number of seconds, not 'x'"))
    status, answer = post(runtime, monkeypatch, push_body(fx.data(fx.load_balancer())))
    assert (status, answer["reason"], answer["stage"]) == (500, "config_error", "config")
    (line,) = json_lines(capsys.readouterr().out)
    assert line["severity"] == "ERROR" and "WRITE_BUDGET_SECONDS" in line["error"]


def test_budgets_that_cannot_nest_are_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    store = RecordingStore()
    runtime = runtime_with(store, {"WRITE_BUDGET_SECONDS": "59"})
    status, answer = post(runtime, monkeypatch, push_body(fx.data(fx.load_balancer())))
    assert (status, answer["stage"]) == (500, "config")
    assert "INGEST_TIMEOUT_SECONDS" in str(answer["error"]) and store.outcomes == []


def test_a_request_answers_503_at_its_deadline_while_the_write_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    """INGEST_TIMEOUT_SECONDS 4 leaves 2 s to wait for the store (margin 2 s); the write hangs 4 s."""
    store = RecordingStore(delay=4.0)
    env = {"INGEST_TIMEOUT_SECONDS": "4", "WRITE_BUDGET_SECONDS": "1", "INGEST_BATCH_WAIT_MS": "10"}
    started = time.monotonic()
    status, answer = post(runtime_with(store, env), monkeypatch, push_body(fx.data(fx.load_balancer())))
    waited = time.monotonic() - started
    assert (status, answer["reason"]) == (503, "not_stored")
    assert 1.5 < waited < 3.5, waited


def test_success_is_silent_at_info_and_summarised_once_per_interval(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = Clock()
    store = RecordingStore()
    runtime = runtime_with(store, clock=clock)
    client = app_for("ingest", runtime, monkeypatch).test_client()
    bodies = [push_body(fx.data(fx.load_balancer()), str(n)) for n in range(5)] + [push_body(b"{broken", "6")]
    for body in bodies:
        assert client.post("/", data=body, headers=JSON).status_code == 200
    assert json_lines(capsys.readouterr().out) == []  # 6 deliveries, no line yet
    clock.now += SUMMARY_INTERVAL_SECONDS
    assert client.post("/", data=bodies[0], headers=JSON).status_code == 200
    (line,) = json_lines(capsys.readouterr().out)
    assert (line["severity"], line["counts"]) == ("INFO", {"http": 6, "error": 1})


def test_debug_logs_one_line_per_message(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    runtime = runtime_with(RecordingStore(), {"LOG_LEVEL": "DEBUG"})
    status, _ = post(runtime, monkeypatch, push_body(fx.data(fx.load_balancer()), "m-5"))
    assert status == 200
    (line,) = json_lines(capsys.readouterr().out)
    assert (line["severity"], line["outcome"], line["message_id"]) == ("DEBUG", "http", "m-5")


# --- with the real Store, on the emulators -------------------------------------------------


@pytest.mark.emulators
def test_bad_bodies_and_poison_land_in_bigquery_once_each(monkeypatch: pytest.MonkeyPatch, dest: Destinations) -> None:
    dest.sink("insert_all").ensure()
    app = app_for("ingest", Runtime(dest.settings("insert_all")), monkeypatch).test_client()
    list_body = b'[{"message": {"messageId": "m-list"}}]'
    bad = orjson.dumps({"message": {"messageId": "m-bad", "data": {"not": "text"}}})
    poison = fx.variant(fx.load_balancer(), httpRequest={"requestUrl": "/", "status": 200,
                                                         "latency": {"seconds": "9" * 400}})  # fmt: skip
    for body in (list_body, bad, push_body(fx.data(poison), "m-poison")):
        response = app.post("/", data=body, headers=JSON)
        assert response.status_code == 200, response.get_json()
    client = make_bigquery_client(dest.settings())
    errors = [dict(r.items()) for r in client.query(f"SELECT * FROM `{dest.dataset}.errors`").result()]
    by_id = {r["message_id"]: r for r in errors}
    assert by_id["m-bad"]["reason"] == "bad_envelope" and by_id["m-bad"]["payload_bytes"] == bad
    assert by_id[None]["reason"] == "bad_envelope" and by_id[None]["payload_bytes"] == list_body
    requests = [
        r["message_id"] for r in client.query(f"SELECT message_id FROM `{dest.dataset}.http_requests`").result()
    ]
    assert requests.count("m-poison") + list(by_id).count("m-poison") == 1
