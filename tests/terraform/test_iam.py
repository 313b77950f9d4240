"""Least privilege: data roles on the one resource concerned, invokers for one identity each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terraform.hcl import Module, expr, references

PROJECT_LEVEL_IAM = ("google_project_iam_", "google_folder_iam_", "google_organization_iam_")
BANNED_PROJECT_ROLES = ("roles/bigquery.data", "roles/bigquery.admin", "roles/storage.", "roles/owner", "roles/editor")
INVOKER_ROLES = ("roles/run.invoker", "roles/cloudfunctions.invoker")


def _iam_resources(module: Module) -> list[tuple[str, str, dict[str, object]]]:
    return [(rtype, name, body) for rtype, name, body in module.all_resources() if "_iam_" in rtype]


def project_level_violations(module: Module) -> list[str]:
    """Project/folder/org-level grants of data or primitive roles (including for_each maps)."""
    found = []
    for rtype, name, body in _iam_resources(module):
        if not rtype.startswith(PROJECT_LEVEL_IAM):
            continue
        # role, or a for_each over several roles: any text naming a banned role counts.
        roles = [str(body.get("role", "")), str(body.get("for_each", ""))]
        if any(banned in role for role in roles for banned in BANNED_PROJECT_ROLES):
            found.append(f"{rtype}.{name}")
    return found


def test_scanner_flags_a_project_level_data_role() -> None:
    fake = Module(
        path=Path("fake"),
        resources={
            "google_project_iam_member": {
                "bad": {"role": "roles/bigquery.dataEditor", "member": "x"},
                "fine": {"role": "roles/logging.logWriter", "member": "x"},
            },
            "google_project_iam_binding": {"worse": {"role": "roles/editor", "members": []}},
            "google_storage_bucket_iam_member": {"bucket_level": {"role": "roles/storage.objectCreator"}},
        },
    )
    assert project_level_violations(fake) == [
        "google_project_iam_member.bad",
        "google_project_iam_binding.worse",
    ]


def test_no_project_level_data_or_primitive_roles(root: Module) -> None:
    assert project_level_violations(root) == []


def test_no_public_members(root: Module) -> None:
    for rtype, name, body in _iam_resources(root):
        text = str(body)
        assert "allUsers" not in text and "allAuthenticatedUsers" not in text, f"{rtype}.{name} is public"


def test_data_roles_sit_on_the_resource_they_concern(root: Module) -> None:
    for rtype, name, body in _iam_resources(root):
        role = str(body.get("role", ""))
        if role == "roles/bigquery.jobUser":  # runs queries, reads no data: exists on projects only
            assert (rtype, name) == ("google_project_iam_member", "report_readers_jobs"), f"{rtype}.{name}"
            assert expr(body["for_each"]) == "toset(var.report_readers)"
            continue
        if role.startswith("roles/bigquery."):
            assert rtype == "google_bigquery_dataset_iam_member", f"{rtype}.{name}: {role}"
            assert expr(body["dataset_id"]) == "google_bigquery_dataset.logs.dataset_id"
        if role.startswith("roles/storage."):
            assert rtype == "google_storage_bucket_iam_member", f"{rtype}.{name}: {role}"


@pytest.mark.parametrize("sa", ["ingest", "drain"])
def test_runtime_accounts_edit_the_dataset(root: Module, sa: str) -> None:
    editor = root.resource("google_bigquery_dataset_iam_member", f"{sa}_editor")
    assert editor["role"] == "roles/bigquery.dataEditor"
    assert expr(editor["member"]) == f"google_service_account.{sa}.member"


def test_archive_creators_are_drain_and_ingest_only_when_it_archives(root: Module) -> None:
    creator = root.resource("google_storage_bucket_iam_member", "archive_creator")
    assert creator["role"] == "roles/storage.objectCreator"
    assert expr(creator["bucket"]) == "google_storage_bucket.archive.name"
    # python-hcl2 mixes quote styles inside object literals: compare without quotes.
    for_each = re.sub("[\"']", "", " ".join(str(creator["for_each"]).split()))
    assert "merge({drain: ${google_service_account.drain.member}}, " in for_each
    assert "var.ingest_write_archive ? {ingest: ${google_service_account.ingest.member}} : {})" in for_each
    assert root.variables["ingest_write_archive"]["default"] is False


def test_only_drain_consumes_the_drain_subscription(root: Module) -> None:
    grant = root.resource("google_pubsub_subscription_iam_member", "drain_subscriber")
    assert grant["role"] == "roles/pubsub.subscriber"
    assert expr(grant["subscription"]) == "google_pubsub_subscription.drain.name"
    assert expr(grant["member"]) == "google_service_account.drain.member"
    # No runtime account holds any topic- or project-level Pub/Sub role.
    for rtype, name, body in _iam_resources(root):
        if str(body.get("role", "")).startswith("roles/pubsub."):
            assert rtype in {"google_pubsub_topic_iam_member", "google_pubsub_subscription_iam_member"}, name
            if rtype == "google_pubsub_topic_iam_member":
                assert not {"google_service_account.ingest", "google_service_account.drain"} & references(body)


def test_run_invoker_only_for_the_push_and_scheduler_accounts(root: Module) -> None:
    invokers = {
        (expr(body.get("name", body.get("service", body.get("cloud_function", ""))))): expr(body["member"])
        for _, _, body in _iam_resources(root)
        if body.get("role") in INVOKER_ROLES
    }
    assert invokers == {
        "google_cloudfunctions2_function.ingest.name": "google_service_account.push.member",
        "google_cloudfunctions2_function.drain.name": "google_service_account.scheduler.member",
    }


def test_token_creator_is_scoped_to_the_push_account(root: Module) -> None:
    grant = root.resource("google_service_account_iam_member", "pubsub_agent_token_creator")
    assert grant["role"] == "roles/iam.serviceAccountTokenCreator"
    assert expr(grant["service_account_id"]) == "google_service_account.push.name"
    assert expr(grant["member"]) == "local.pubsub_service_agent"
