"""App Engine RequestLog (functions/formats/appengine.py)."""

from __future__ import annotations

from functions.formats import appengine
from tests.functions import fixtures as fx


def test_status_comes_from_http_request_when_the_payload_lacks_it() -> None:
    payload = dict(fx.app_engine()["protoPayload"])
    del payload["status"]
    row = appengine.parse(payload, {"status": 503})
    assert row is not None
    assert row["status"] == 503


def test_untyped_request_log_shape_is_recognised_but_audit_logs_are_not() -> None:
    payload = dict(fx.app_engine()["protoPayload"])
    del payload["@type"]
    assert appengine.is_request_log(payload)
    assert not appengine.is_request_log(fx.iap_audit()["protoPayload"])
    assert not appengine.is_request_log({"method": "GET", "resource": {"type": "x"}, "status": 200})
