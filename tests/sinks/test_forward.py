"""The `forward` loop (sinks/forward.py) with a fake puller (an in-memory subscription) and the
real sender against a real receiver: what is acked, what is handed back, and when."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from functions import syslog
from functions.config import SyslogDestination, parse_destination
from functions.message import Message
from local import entries as fx
from local import rfc5424
from local.emulators import LOOPBACK, free_port
from local.syslog_receiver import SyslogReceiver
from sinks.forward import ForwardJob, Sender, forward
from sinks.pubsub import Pulled
from sinks.syslog import Delivery, SyslogSender
from tests.sinks.entrypoints import ScriptedPuller

pytestmark = pytest.mark.emulators

OPTIONS = syslog.Options()


@dataclass
class RecordingSender:
    """The real sender, noting into the puller's event list when a batch was delivered."""

    real: SyslogSender
    events: list[tuple[str, list[str]]]

    def send(self, frames: list[bytes]) -> Delivery:
        delivery = self.real.send(frames)
        self.events.append(("delivered", [str(len(frames))]))
        return delivery


def pulled(data: bytes, ack_id: str | None = None) -> Pulled:
    ack = ack_id or uuid.uuid4().hex
    return Pulled(ack, Message(data=data, message_id=ack, publish_time="2026-11-20T09:15:03.5Z"))


def entries(count: int, **changes: object) -> tuple[list[Pulled], list[str]]:
    tag = uuid.uuid4().hex[:8]
    ids = [f"{tag}-{n}" for n in range(count)]
    return [
        pulled(fx.data(fx.variant(fx.gke_container(f"line {n}"), insertId=i, **changes))) for n, i in enumerate(ids)
    ], ids


def job(fake: ScriptedPuller, sender: Sender, batch_size: int = 1000, budget_seconds: float = 60.0,
        linger_seconds: float = 0.0) -> ForwardJob:  # fmt: skip
    return ForwardJob(fake, sender, OPTIONS, batch_size, budget_seconds, linger_seconds)


def run(fake: ScriptedPuller, sender: Sender) -> dict[str, object]:
    return forward(job(fake, sender)).to_json()


@pytest.fixture
def sender(syslog_tls: SyslogReceiver) -> SyslogSender:
    return SyslogSender(parse_destination(syslog_tls.destination), ca_file=str(syslog_tls.ca_path))


def test_acks_exactly_what_was_delivered_after_delivery_and_hands_back_the_rest(
    syslog_tls: SyslogReceiver, sender: SyslogSender
) -> None:
    first, first_ids = entries(300)
    second, second_ids = entries(5)
    junk = [pulled(b"{broken", "bad-json"), pulled(b"[1]", "not-entry"), pulled(b"", "empty")]
    fake = ScriptedPuller([first, second[:2] + junk + second[2:]])
    summary = run(fake, RecordingSender(sender, fake.events))
    assert summary["pulled"] == 308 and summary["sent"] == summary["acked"] == 305
    assert summary["skipped"] == 3 and summary["released"] == 3
    assert summary["skipped_by_reason"] == {"not_json": 1, "not_logentry": 1, "no_data": 1}
    assert (summary["batches"], summary["stopped"], summary["failure"]) == (2, "empty", None)
    assert summary["unconfirmed_batches"] == 0
    assert [e for e, _ in fake.events] == ["pull", "delivered", "ack", "pull", "delivered", "ack", "release", "pull"]
    assert sorted(fake.settled("release")) == ["bad-json", "empty", "not-entry"]
    assert sorted(fake.settled("ack")) == sorted(p.ack_id for p in first + second)
    received = syslog_tls.wait_for(first_ids + second_ids)
    assert all(len(received[i]) == 1 for i in first_ids + second_ids)


def test_a_batch_goes_out_in_event_time_order(syslog_tls: SyslogReceiver, sender: SyslogSender) -> None:
    tag = uuid.uuid4().hex[:8]
    times = ["2026-11-20T09:15:03Z", "2026-11-20T09:15:01Z", "2026-11-20T09:15:02Z"]
    batch = [pulled(fx.data(fx.variant(fx.gen1_function(), insertId=f"{tag}-{t}", timestamp=t))) for t in times]
    run(ScriptedPuller([batch]), sender)
    lines = syslog_tls.wait_for([f"{tag}-{t}" for t in times])
    order = sorted((syslog_tls.received().index(lines[f"{tag}-{t}"][0]), t) for t in times)
    assert [t for _, t in order] == sorted(times)


def test_a_failed_send_hands_back_the_whole_batch_and_ends_the_run(tmp_path: Path) -> None:
    nobody = SyslogSender(SyslogDestination(True, LOOPBACK, free_port()))
    batch, _ = entries(10)
    later, _ = entries(10)
    fake = ScriptedPuller([[*batch, pulled(b"[1]", "not-entry")], later])
    summary = run(fake, nobody)
    assert summary["stopped"] == "failed" and "cannot connect" in str(summary["failure"])
    assert (summary["acked"], summary["released"], summary["sent"]) == (0, 11, 0)
    assert fake.settled("ack") == []
    assert sorted(fake.settled("release")) == sorted([*(p.ack_id for p in batch), "not-entry"])
    assert fake.batches == [later]  # not pulled: the run stopped at the failure


def test_the_budget_and_the_linger(sender: SyslogSender) -> None:
    batch, _ = entries(2)
    ticks = itertools.count()
    clock = lambda: float(next(ticks))  # noqa: E731  # one second per reading
    fake = ScriptedPuller([batch, batch, batch])
    summary = forward(job(fake, sender, batch_size=10, budget_seconds=4), clock)
    assert summary.stopped == "budget" and summary.batches == 2
    # Lingering: empty pulls do not end the run until no message came for `linger_seconds`.
    fake = ScriptedPuller([[], [], batch, [], [], [], [], []])
    summary = forward(job(fake, sender, batch_size=10, budget_seconds=100, linger_seconds=5), clock, lambda s: None)
    assert (summary.stopped, summary.batches, summary.acked) == ("empty", 1, 2)
    assert len(fake.batches) == 2  # it stopped after about 5 s without messages


def test_every_line_the_loop_sends_is_a_valid_message(syslog_tls: SyslogReceiver, sender: SyslogSender) -> None:
    batch, ids = entries(20, severity="WARNING")
    run(ScriptedPuller([batch]), sender)
    received = syslog_tls.wait_for(ids)
    assert {rfc5424.parse(received[i][0]).severity for i in ids} == {4}


@pytest.fixture(autouse=True)
def _no_stray_messages(syslog_tls: SyslogReceiver) -> Iterator[None]:
    """Whatever reached the receiver parses as RFC 5424 (by_insert_id is strict)."""
    yield
    syslog_tls.by_insert_id()
