"""Least privilege: data roles on the one resource concerned, invokers for one identity each."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.hcl import Module, expr, references

PROJECT_LEVEL_IAM = ("google_project_iam_", "google_folder_iam_", "google_organization_iam_")
BANNED_PROJECT_ROLES = ("roles/bigquery.data", "roles/bigquery.admin", "roles/storage.", "roles/owner", "roles/editor")
INVOKER_ROLES = ("roles/run.invoker", "roles/cloudfunctions.invoker")


def _iam_resources(module: Module) -> list[tuple[str, str, dict[str, object]]]:
    return [(rtype, name, body) for rtype, name, body in module.all_resources() if "_iam_" in rtype]


# The one project-level storage grant allowed: the build account on Cloud Functions' own
# source buckets, which do not exist before the first deployment, limited by an IAM condition.
GCF_SOURCES_CONDITION = 'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")'


def _limited_to_gcf_sources(body: dict[str, Any]) -> bool:
    conditions = body.get("condition", [])
    return (
        isinstance(conditions, list)
        and len(conditions) == 1
        and conditions[0].get("expression") == GCF_SOURCES_CONDITION
        and "for_each" not in body
    )


def project_level_violations(module: Module) -> list[str]:
    """Project/folder/org-level grants of data or primitive roles (including for_each maps)."""
    found = []
    for rtype, name, body in _iam_resources(module):
        if not rtype.startswith(PROJECT_LEVEL_IAM):
            continue
        # role, or a for_each over several roles: any text naming a banned role counts.
        roles = [str(body.get("role", "")), str(body.get("for_each", ""))]
        allowed = roles[0].startswith("roles/storage.object") and _limited_to_gcf_sources(body)
        if any(banned in role for role in roles for banned in BANNED_PROJECT_ROLES) and not allowed:
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
    fake.resources["google_project_iam_member"] |= {
        "gcf_sources": {"role": "roles/storage.objectAdmin", "condition": [{"expression": GCF_SOURCES_CONDITION}]},
        "any_bucket": {"role": "roles/storage.objectViewer", "condition": [{"expression": "true"}]},
        "unconditioned": {"role": "roles/storage.objectAdmin"},
    }
    assert project_level_violations(fake) == [
        "google_project_iam_member.bad",
        "google_project_iam_member.any_bucket",
        "google_project_iam_member.unconditioned",
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
        if role.startswith("roles/storage.") and not _limited_to_gcf_sources(body):
            assert rtype == "google_storage_bucket_iam_member", f"{rtype}.{name}: {role}"


def test_the_build_account_gets_what_a_build_needs_and_no_more(root: Module) -> None:
    """https://cloud.google.com/functions/docs/securing/build-custom-sa: logs, images, sources."""
    grants = {
        f"{rtype}.{name}": body
        for rtype, name, body in _iam_resources(root)
        if expr(body.get("member")) == "local.build_member"
    }
    assert {k: v["role"] for k, v in grants.items()} == {
        "google_project_iam_member.build_log_writer": "roles/logging.logWriter",
        "google_artifact_registry_repository_iam_member.build_writer": "roles/artifactregistry.writer",
        "google_storage_bucket_iam_member.build_source_reader": "roles/storage.objectViewer",
        "google_project_iam_member.build_gcf_sources": "roles/storage.objectAdmin",
    }
    writer = grants["google_artifact_registry_repository_iam_member.build_writer"]
    assert expr(writer["repository"]) == "google_artifact_registry_repository.functions.name"
    reader = grants["google_storage_bucket_iam_member.build_source_reader"]
    assert expr(reader["bucket"]) == "google_storage_bucket.source.name"
    assert _limited_to_gcf_sources(grants["google_project_iam_member.build_gcf_sources"])
    # The member is the created account, or the one given: either way the same grants.
    assert root.local("build_member") == 'serviceAccount:${element(split("/", local.build_service_account), 3)}'
    assert expr(root.local("build_service_account")) == (
        "var.build_service_account == null ? google_service_account.build[0].id : var.build_service_account"
    )
    assert (
        expr(root.resource("google_service_account", "build")["count"]) == "var.build_service_account == null ? 1 : 0"
    )


@pytest.mark.parametrize("sa", ["ingest", "drain"])
def test_runtime_accounts_edit_the_dataset(root: Module, sa: str) -> None:
    editor = root.resource("google_bigquery_dataset_iam_member", f"{sa}_editor")
    assert editor["role"] == "roles/bigquery.dataEditor"
    assert expr(editor["for_each"]) == f"google_service_account.{sa}"  # one grant when the mode deploys it
    assert expr(editor["member"]) == "each.value.member"


def test_archive_creators_are_drain_and_ingest_only_when_it_archives(root: Module) -> None:
    creator = root.resource("google_storage_bucket_iam_member", "archive_creator")
    assert creator["role"] == "roles/storage.objectCreator"
    assert expr(creator["bucket"]) == "google_storage_bucket.archive.name"
    # python-hcl2 mixes quote styles inside object literals: compare without quotes.
    for_each = re.sub("[\"']", "", " ".join(str(creator["for_each"]).split()))
    assert "merge({for sa in google_service_account.drain : drain => sa.member}, " in for_each
    assert (
        "var.ingest_write_archive ? {for sa in google_service_account.ingest : ingest => sa.member} : {})" in for_each
    )
    assert root.variables["ingest_write_archive"]["default"] is False


def test_only_drain_consumes_the_drain_subscription(root: Module) -> None:
    grant = root.resource("google_pubsub_subscription_iam_member", "drain_subscriber")
    assert grant["role"] == "roles/pubsub.subscriber"
    assert expr(grant["for_each"]) == "local.pull"
    assert expr(grant["subscription"]) == 'google_pubsub_subscription.drain["this"].name'
    assert expr(grant["member"]) == 'google_service_account.drain["this"].member'
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
        'google_cloudfunctions2_function.ingest["this"].name': 'google_service_account.push["this"].member',
        'google_cloudfunctions2_function.drain["this"].name': 'google_service_account.scheduler["this"].member',
        'google_cloudfunctions2_function.forward["this"].name': 'google_service_account.forward_scheduler["this"].member',
    }


def test_token_creator_is_scoped_to_the_push_account(root: Module) -> None:
    grant = root.resource("google_service_account_iam_member", "pubsub_agent_token_creator")
    assert grant["role"] == "roles/iam.serviceAccountTokenCreator"
    assert expr(grant["for_each"]) == "var.grant_token_creator_to_pubsub_agent ? google_service_account.push : {}"
    assert expr(grant["service_account_id"]) == "each.value.name"
    assert expr(grant["member"]) == "local.pubsub_service_agent"
