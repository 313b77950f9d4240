"""`drain` in process: main.py's entry point through functions-framework's Flask test client, over
a fake puller on the real Puller's interface (tests/sinks/entrypoints.py) for the faults Pub/Sub
cannot be made to produce on demand. Whatever stage fails, the answer is the JSON summary, and
what was acked before the failure is in it. The Puller itself, on the emulator, is in test_pubsub.py."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as api_exceptions

from functions import user_agent
from local import entries as fx
from sinks.drain import DrainSummary
from sinks.errors import RetryableError
from sinks.runtime import Runtime
from tests.sinks.entrypoints import Clock, FakePuller, RecordingStore, app_for, json_lines, runtime_with

POISON = fx.variant(
    fx.load_balancer(), httpRequest={"requestUrl": "/", "status": 200, "latency": {"seconds": "9" * 400}}
)


def call(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, object]]:
    response = app_for("drain", runtime, monkeypatch).test_client().post("/", json={})
    assert response.is_json, response.data[:300]
    return response.status_code, response.get_json()


def batch(n: int) -> list[bytes]:
    return [fx.data(fx.variant(fx.load_balancer(), insertId=f"id-{i}")) for i in range(n)]


def test_a_poison_message_is_stored_with_its_batch_and_everything_is_acked(monkeypatch: pytest.MonkeyPatch) -> None:
    puller = FakePuller([*batch(2), fx.data(POISON), *batch(2)])
    store = RecordingStore()
    status, summary = call(runtime_with(store, {"DRAIN_BATCH_SIZE": "3"}, puller), monkeypatch)
    assert (status, summary["stopped"], summary["acked"], summary["failure"]) == (200, "empty", 5, None)
    assert len(store.outcomes) == 5 and len(puller.acked) == 5 and puller.released == []


def test_a_parser_bug_is_one_error_row_not_a_stuck_batch(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = []

    def sometimes(agent: str | None) -> dict[str, object]:
        calls.append(agent)
        if len(calls) == 2:
            raise IndexError("a parser bug")
        return original(agent)

    original = user_agent.columns  # on both readers' way (fast path and general)
    monkeypatch.setattr(user_agent, "columns", sometimes)
    puller = FakePuller(batch(3))
    store = RecordingStore()
    status, summary = call(runtime_with(store, {}, puller), monkeypatch)
    assert (status, summary["acked"], summary["by_reason"]) == (200, 3, {"internal_error": 1})
    lines = json_lines(capsys.readouterr().out)
    assert [(line["severity"], line.get("message_id")) for line in lines] == [("WARNING", "m-1"), ("INFO", None)]


def test_a_transient_pull_error_answers_the_summary_with_what_was_acked(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    puller = FakePuller(batch(5), pull_faults={3: RetryableError("pull from s: 503 Service Unavailable")})
    store = RecordingStore()
    status, summary = call(runtime_with(store, {"DRAIN_BATCH_SIZE": "2"}, puller), monkeypatch)
    assert (status, summary["stopped"], summary["stage"]) == (500, "failed", "pull")
    assert (summary["acked"], summary["batches"]) == (4, 2)
    assert "503" in str(summary["failure"])
    (line,) = json_lines(capsys.readouterr().out)
    assert (line["severity"], line["stage"], line["acked"]) == ("ERROR", "pull", 4)
    assert line["logging.googleapis.com/labels"] == {"logexport_component": "drain"}


def test_a_pull_deadline_is_a_failure_not_an_empty_subscription(monkeypatch: pytest.MonkeyPatch) -> None:
    timeout = RetryableError("pull from s: still failing after 3 attempts in 10.0 s: 504 Deadline Exceeded")
    puller = FakePuller(batch(1), pull_faults={1: timeout})
    status, summary = call(runtime_with(RecordingStore(), {}, puller), monkeypatch)
    assert (status, summary["stopped"], summary["stage"]) == (500, "failed", "pull")


def test_a_failed_ack_is_reported_with_the_stored_batch_left_unacked(monkeypatch: pytest.MonkeyPatch) -> None:
    puller = FakePuller(batch(4), ack_faults={2: RetryableError("acknowledge on s: 503")})
    store = RecordingStore()
    status, summary = call(runtime_with(store, {"DRAIN_BATCH_SIZE": "2"}, puller), monkeypatch)
    assert (status, summary["stage"], summary["acked"], summary["stored"]) == (500, "ack", 2, 4)
    assert summary["not_acked"] == ["m-2", "m-3"]


def test_a_failed_store_releases_the_batch_and_acks_nothing_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    puller = FakePuller(batch(3))
    store = RecordingStore(fail=RetryableError("upload gs://b/o: 503"))
    status, summary = call(runtime_with(store, {}, puller), monkeypatch)
    assert (status, summary["stage"], summary["acked"], summary["released"]) == (500, "store", 0, 3)
    assert puller.acked == [] and sorted(puller.released) == ["ack-0", "ack-1", "ack-2"]


def test_a_bug_in_the_store_releases_the_batch_and_answers_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    puller = FakePuller(batch(2))
    status, summary = call(runtime_with(RecordingStore(fail=TypeError("a sink bug")), {}, puller), monkeypatch)
    assert (status, summary["stage"], summary["released"]) == (500, "internal", 2)
    assert str(summary["failure"]).startswith("TypeError: a sink bug (at ")
    assert puller.acked == []


def test_a_pull_that_raises_something_unexpected_is_an_internal_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    denied = api_exceptions.PermissionDenied("subscriber role missing")  # type: ignore[no-untyped-call]
    puller = FakePuller(batch(1), pull_faults={1: denied})
    status, summary = call(runtime_with(RecordingStore(), {}, puller), monkeypatch)
    assert (status, summary["stopped"], summary["stage"]) == (500, "failed", "internal")


@pytest.mark.parametrize(
    ("env", "named"),
    [({"DRAIN_SUBSCRIPTION": ""}, "DRAIN_SUBSCRIPTION"), ({"DRAIN_BUDGET_SECONDS": "290"}, "DRAIN_TIMEOUT_SECONDS")],
)
def test_a_configuration_error_answers_the_summary(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    status, summary = call(runtime_with(RecordingStore(), env, FakePuller([])), monkeypatch)
    assert (status, summary["stage"]) == (500, "config")
    assert named in str(summary["failure"])
    assert set(summary) == set(DrainSummary().to_json())


def test_the_budget_stops_the_run_between_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    store = RecordingStore()

    class SlowPuller(FakePuller):
        def pull(self, max_messages: int) -> list:  # type: ignore[type-arg]
            clock.now += 30  # each pull takes 30 s of the 60 s budget
            return super().pull(max_messages)

    puller = SlowPuller(batch(10))
    runtime = runtime_with(store, {"DRAIN_BATCH_SIZE": "2", "DRAIN_BUDGET_SECONDS": "60"}, puller, clock=clock)
    status, summary = call(runtime, monkeypatch)
    assert (status, summary["stopped"], summary["acked"]) == (200, "budget", 4)


def test_an_empty_subscription_is_one_info_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, summary = call(runtime_with(RecordingStore(), {}, FakePuller([])), monkeypatch)
    assert (status, summary["stopped"], summary["pulled"]) == (200, "empty", 0)
    (line,) = json_lines(capsys.readouterr().out)
    assert line["severity"] == "INFO"


class FewAtATime(FakePuller):
    """Pub/Sub answers a pull with what it has at hand, often fewer messages than asked for."""

    def pull(self, max_messages: int) -> list:  # type: ignore[type-arg]
        return super().pull(min(max_messages, 3))


def test_pulls_fill_a_batch_so_one_store_call_takes_up_to_the_batch_size(monkeypatch: pytest.MonkeyPatch) -> None:
    puller = FewAtATime(batch(11))
    store = RecordingStore()
    status, summary = call(runtime_with(store, {"DRAIN_BATCH_SIZE": "8"}, puller), monkeypatch)
    assert (status, summary["stopped"], summary["acked"], summary["batches"]) == (200, "empty", 11, 2)
    assert [len(b) for b in store.batches] == [8, 3]  # one append per table and one object per (log, hour) each
    assert puller.pulls == 3 + 2  # the second batch ended on an empty pull, and the run with it


def test_a_pull_failing_mid_batch_stores_and_acks_what_was_pulled_then_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    puller = FewAtATime(batch(8), pull_faults={2: RetryableError("pull from s: 503 Service Unavailable")})
    store = RecordingStore()
    status, summary = call(runtime_with(store, {}, puller), monkeypatch)
    assert (status, summary["stage"], summary["acked"]) == (500, "pull", 3)
    assert [len(b) for b in store.batches] == [3] and len(puller.acked) == 3 and puller.released == []
