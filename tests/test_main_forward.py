"""The `forward` entry point in-process: functions-framework's Flask test client calls main.py
as Cloud Scheduler would, with a fake puller standing in for the subscription and the real
sender writing to the local rsyslog receiver."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import functions_framework
import orjson
import pytest

from functions.config import ConfigError
from functions.message import Message
from local import entries as fx
from local.emulators import LOOPBACK, free_port
from local.syslog_receiver import SyslogReceiver
from sinks.pubsub import Pulled
from tests.sinks.fakes import FakePuller, as_puller

pytestmark = pytest.mark.emulators

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class App:
    client: Any  # flask.testing.FlaskClient
    main: ModuleType  # main.py as functions-framework loaded it (it registers its own module)

    def use_puller(self, fake: FakePuller) -> None:
        """Builds the real parts (settings checked, real sender), then swaps the puller for the fake."""
        _, sender = self.main._forward_parts()
        self.main._instances["forward.parts"] = (as_puller(fake), sender)


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch, syslog_tls: SyslogReceiver) -> Iterator[App]:
    for key, value in syslog_tls.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("FORWARD_SUBSCRIPTION", "projects/test-project/subscriptions/logexport-forward")
    flask_app = functions_framework.create_app(  # type: ignore[no-untyped-call]
        target="forward", source=str(ROOT / "main.py"), signature_type="http"
    )
    yield App(flask_app.test_client(), sys.modules["main"])


def test_forward_sends_acks_and_answers_a_json_summary(app: App, syslog_tls: SyslogReceiver) -> None:
    tag = uuid.uuid4().hex[:8]
    ids = [f"{tag}-{n}" for n in range(25)]
    batch = [Pulled(i, Message(data=fx.data(fx.variant(fx.cloud_run(), insertId=i)), message_id=i)) for i in ids]
    fake = FakePuller([[*batch, Pulled("junk", Message(data=b"not json", message_id="junk"))]])
    app.use_puller(fake)
    response = app.client.post("/", json={})
    assert response.status_code == 200
    summary = orjson.loads(response.data)
    assert (summary["sent"], summary["acked"], summary["skipped"], summary["failure"]) == (25, 25, 1, None)
    assert sorted(fake.settled("ack")) == sorted(ids)
    assert fake.settled("release") == ["junk"]
    received = syslog_tls.wait_for(ids)
    assert all(len(received[i]) == 1 for i in ids)


def test_an_unreachable_receiver_answers_500_and_acks_nothing(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("FORWARD_DESTINATION", f"syslog+tls://{LOOPBACK}:{port}")
    fake = FakePuller([[Pulled("a", Message(data=fx.data(fx.gen1_function()), message_id="a"))]])
    app.use_puller(fake)
    response = app.client.post("/", json={})
    assert response.status_code == 500
    summary = orjson.loads(response.data)
    assert summary["stopped"] == "failed" and "cannot connect" in summary["failure"]
    assert str(port) not in summary["failure"]  # the host is named, the account's port is not
    assert fake.settled("ack") == [] and fake.settled("release") == ["a"]


def test_a_missing_destination_is_a_configuration_error(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORWARD_DESTINATION")
    with pytest.raises(ConfigError, match="FORWARD_DESTINATION must be set"):
        app.main._forward_parts()
