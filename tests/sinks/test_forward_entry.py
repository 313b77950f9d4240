"""The `forward` entry point in process: main.py through functions-framework's Flask test client,
as Cloud Scheduler calls it, with a scripted puller standing in for the subscription and the real
sender writing to the local rsyslog receiver. Whatever stage fails, the answer is the JSON summary."""

from __future__ import annotations

import uuid

import pytest

from functions.message import Message
from local import entries as fx
from local.emulators import LOOPBACK, free_port
from local.syslog_receiver import SyslogReceiver
from sinks.errors import RetryableError
from sinks.pubsub import Pulled
from sinks.runtime import Runtime
from tests.sinks.entrypoints import RecordingStore, ScriptedPuller, app_for, runtime_with

pytestmark = pytest.mark.emulators

SUBSCRIPTION = {"FORWARD_SUBSCRIPTION": "projects/blog-prod-123/subscriptions/logexport-forward"}


def call(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[str, object]]:
    response = app_for("forward", runtime, monkeypatch).test_client().post("/", json={})
    assert response.is_json, response.data[:300]
    return response.status_code, response.get_json()


def test_forward_sends_acks_and_answers_a_json_summary(
    monkeypatch: pytest.MonkeyPatch, syslog_tls: SyslogReceiver
) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = [f"{tag}-{n}" for n in range(25)]
    batch = [Pulled(i, Message(data=fx.data(fx.variant(fx.cloud_run(), insertId=i)), message_id=i)) for i in ids]
    fake = ScriptedPuller([[*batch, Pulled("junk", Message(data=b"not json", message_id="junk"))]])
    runtime = runtime_with(RecordingStore(), {**syslog_tls.env(), **SUBSCRIPTION}, fake)
    status, summary = call(runtime, monkeypatch)
    assert status == 200
    assert (summary["sent"], summary["acked"], summary["skipped"], summary["failure"]) == (25, 25, 1, None)
    assert sorted(fake.settled("ack")) == sorted(ids)
    assert fake.settled("release") == ["junk"]
    received = syslog_tls.wait_for(ids)
    assert all(len(received[i]) == 1 for i in ids)


def test_an_unreachable_receiver_answers_500_and_acks_nothing(
    monkeypatch: pytest.MonkeyPatch, syslog_tls: SyslogReceiver
) -> None:
    port = free_port()
    env = {**syslog_tls.env(), **SUBSCRIPTION, "FORWARD_DESTINATION": f"syslog+tls://{LOOPBACK}:{port}"}
    fake = ScriptedPuller([[Pulled("a", Message(data=fx.data(fx.gen1_function()), message_id="a"))]])
    status, summary = call(runtime_with(RecordingStore(), env, fake), monkeypatch)
    assert status == 500
    assert (summary["stopped"], summary["stage"]) == ("failed", "send")
    assert "cannot connect" in str(summary["failure"])
    assert str(port) not in str(summary["failure"])  # the host is named, the account's port is not
    assert fake.settled("ack") == [] and fake.settled("release") == ["a"]


def test_a_missing_destination_is_a_configuration_error_in_the_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = ScriptedPuller([])
    status, summary = call(runtime_with(RecordingStore(), SUBSCRIPTION, fake), monkeypatch)
    assert (status, summary["stage"]) == (500, "config")
    assert "FORWARD_DESTINATION must be set" in str(summary["failure"])
    assert fake.events == []  # nothing was pulled


def test_a_pull_that_fails_answers_the_summary(monkeypatch: pytest.MonkeyPatch, syslog_tls: SyslogReceiver) -> None:
    class FailingPuller(ScriptedPuller):
        def pull(self, max_messages: int) -> list[Pulled]:
            raise RetryableError("pull from projects/blog-prod-123/subscriptions/logexport-forward failed: 503")

    status, summary = call(runtime_with(RecordingStore(), {**syslog_tls.env(), **SUBSCRIPTION}, FailingPuller([])),
                           monkeypatch)  # fmt: skip
    assert (status, summary["stage"], summary["acked"]) == (500, "pull", 0)
