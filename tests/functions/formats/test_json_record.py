"""JSON access records in jsonPayload (functions/formats/json_record.py)."""

from __future__ import annotations

from functions.formats import json_record
from tests.functions import fixtures as fx


def test_nginx_record_with_method_and_uri_instead_of_request() -> None:
    record = {"request_method": "PUT", "request_uri": "/api/v1/posts/7", "status": 409, "remote_addr": "192.0.2.8"}
    row = json_record.parse(record)
    assert row is not None
    assert (row["method"], row["path"], row["status"], row["remote_ip"]) == ("PUT", "/api/v1/posts/7", 409, "192.0.2.8")


def test_application_records_are_not_requests() -> None:
    assert json_record.parse({"message": "user logged in", "status": "ok"}) is None
    assert json_record.parse({"status": 200, "request_method": "GET"}) is None
    assert json_record.parse(["not", "an", "object"]) is None


def test_nginx_escape_json_fixture() -> None:
    row = json_record.parse(fx.nginx_json()["jsonPayload"])
    assert row is not None
    assert row["url"] == "/tags/python?page=3"
