"""sinks/syslog.py against a real receiver: rsyslog with GnuTLS on loopback (local/syslog_receiver.py),
verified with the CA the harness made, as `forward` verifies Papertrail with the system CAs."""

from __future__ import annotations

import socket
import ssl
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from functions import syslog
from functions.config import SyslogDestination, parse_destination
from local import entries as fx
from local import rfc5424
from local.emulators import LOOPBACK, free_port
from local.syslog_receiver import SyslogReceiver, ensure_installed, make_certificates
from sinks.syslog import SyslogError, SyslogRefusedError, SyslogSender

pytestmark = pytest.mark.emulators


def frames(count: int, framing: syslog.Framing = "octet-counting", **changes: object) -> tuple[list[bytes], list[str]]:
    """`count` framed load-balancer messages with insertIds unique to this call."""
    tag = uuid.uuid4().hex[:8]
    ids = [f"{tag}-{n}" for n in range(count)]
    options = syslog.Options(framing=framing)
    out = []
    for insert_id in ids:
        entry = fx.variant(fx.load_balancer(), insertId=insert_id, **changes)
        message = syslog.render_data(orjson.dumps(entry), options).message
        assert message is not None
        out.append(syslog.frame(message, framing))
    return out, ids


def sender_for(receiver: SyslogReceiver, timeout: float = 10.0) -> SyslogSender:
    ca = str(receiver.ca_path) if receiver.tls else None
    return SyslogSender(parse_destination(receiver.destination), ca_file=ca, timeout=timeout)


@pytest.fixture
def own_receiver(tmp_path: Path) -> Iterator[SyslogReceiver]:
    """A receiver of the test's own, for the tests that stop it."""
    receiver = SyslogReceiver(tmp_path, ensure_installed())
    receiver.start()
    yield receiver
    receiver.stop()


def test_a_batch_arrives_whole_once_and_the_close_is_confirmed(syslog_tls: SyslogReceiver) -> None:
    batch, ids = frames(2000)
    delivery = sender_for(syslog_tls).send(batch)
    assert (delivery.messages, delivery.bytes, delivery.confirmed) == (2000, sum(map(len, batch)), True)
    received = syslog_tls.wait_for(ids)
    assert all(len(received[i]) == 1 for i in ids)
    assert [rfc5424.split_octet_counted(f)[0] for f in batch] == [received[i][0] for i in ids]  # byte for byte


@pytest.mark.parametrize("framing", syslog.FRAMINGS)
def test_multiline_and_papertrail_sized_messages_arrive_as_one_message(
    syslog_tls: SyslogReceiver, framing: syslog.Framing
) -> None:
    text = 'Traceback (most recent call last):\n  File "app.py", line 1\nValueError: é' + "x" * 95_000
    batch, ids = frames(3, framing, textPayload=text, httpRequest=None)
    sender_for(syslog_tls).send(batch)
    received = syslog_tls.wait_for(ids)
    for insert_id in ids:
        (line,) = received[insert_id]
        msg = rfc5424.parse(line).msg
        assert msg is not None and len(line) > 95_000
        # rsyslog writes a line feed it read inside an octet-counted message as #012, as we escape it
        assert msg.startswith(b'Traceback (most recent call last):#012  File "app.py", line 1#012')


def test_plain_tcp_to_a_local_relay(tmp_path: Path) -> None:
    relay = SyslogReceiver(tmp_path, ensure_installed(), tls=False)
    relay.start()
    try:
        batch, ids = frames(50)
        delivery = sender_for(relay).send(batch)
        assert delivery.confirmed
        assert set(relay.wait_for(ids)) == set(ids)
    finally:
        relay.stop()


def test_a_receiver_not_signed_by_the_trusted_ca_is_refused(syslog_tls: SyslogReceiver, tmp_path: Path) -> None:
    other_ca, _, _ = make_certificates(tmp_path / "other", common_name="someone else")
    destination = parse_destination(syslog_tls.destination)
    for sender in (SyslogSender(destination, ca_file=str(other_ca)), SyslogSender(destination)):  # system CAs
        with pytest.raises(SyslogRefusedError, match="failed TLS verification"):
            sender.send([b"5 <14>1"])


def test_a_name_the_certificate_does_not_carry_is_refused(syslog_tls: SyslogReceiver) -> None:
    # The certificate names 127.0.0.1 and localhost; this machine's own hostname resolves to it too.
    name = socket.gethostname()
    try:
        if socket.gethostbyname(name) != LOOPBACK:
            pytest.skip(f"{name} does not resolve to {LOOPBACK}")
    except OSError:
        pytest.skip(f"{name} does not resolve")
    sender = SyslogSender(SyslogDestination(True, name, syslog_tls.port), ca_file=str(syslog_tls.ca_path))
    with pytest.raises(SyslogRefusedError, match=r"Hostname mismatch|IP address mismatch"):
        sender.send([b"5 <14>1"])


def test_nobody_listening_fails_fast() -> None:
    sender = SyslogSender(SyslogDestination(True, LOOPBACK, free_port()))
    started = time.monotonic()
    with pytest.raises(SyslogError, match="cannot connect") as failed:
        sender.send([b"5 <14>1"])
    assert not isinstance(failed.value, SyslogRefusedError)
    assert time.monotonic() - started < 2


def test_receiver_stopped_mid_batch_fails_the_batch_and_a_resend_loses_nothing(own_receiver: SyslogReceiver) -> None:
    batch, ids = frames(10_000)
    sender = sender_for(own_receiver)
    sender.send(batch[:100])
    own_receiver.wait_for(ids[:100])
    stopper = threading.Timer(0.005, own_receiver.stop)
    stopper.start()
    with pytest.raises(SyslogError):
        for _ in range(100):  # until the stop lands inside a send
            sender.send(batch)
    stopper.join()
    own_receiver.start()
    assert sender.send(batch).confirmed
    received = own_receiver.wait_for(ids)
    counts = Counter({i: len(received[i]) for i in ids})
    assert set(counts) == set(ids)  # nothing lost
    print(f"\nduplicates after the mid-batch stop: {sum(counts.values()) - len(ids)}")
    for insert_id in ids:  # a duplicate is the same message again: readers drop it by insertId
        assert len(set(received[insert_id])) == 1


def test_a_receiver_that_never_closes_is_trusted_on_tcp_acknowledgement_only(
    syslog_tls: SyslogReceiver, tmp_path: Path
) -> None:
    """A fake receiver, because no local syslog server keeps a connection open after a
    close_notify; some relays might. It reads everything and never closes."""
    ca, cert, key = make_certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listener = socket.create_server((LOOPBACK, 0))
    received = bytearray()

    def serve() -> None:
        connection, _ = listener.accept()
        with context.wrap_socket(connection, server_side=True) as tls:
            tls.settimeout(5)
            try:
                while chunk := tls.recv(65536):
                    received.extend(chunk)
            except (OSError, ssl.SSLError):
                pass
            time.sleep(0.8)  # still open after the client's close_notify (the sender waits 0.5 s)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    batch, _ = frames(10)
    port = listener.getsockname()[1]
    started = time.monotonic()
    delivery = SyslogSender(SyslogDestination(True, LOOPBACK, port), ca_file=str(ca), timeout=0.5).send(batch)
    assert delivery.confirmed is False
    assert time.monotonic() - started < 1.5
    server.join(5)
    listener.close()
    assert bytes(received) == b"".join(batch)
