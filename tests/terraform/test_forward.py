"""terraform/forward.tf: off unless a destination is given; its own sink, filter (evaluated by
Terraform itself) and subscription with dead letters; the function reads the destination from
Secret Manager; every grant on the one resource it concerns."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.terraform.hcl import TF_DIR, Module, block, blocks, dynamic_blocks, dynamic_content, expr, references
from tests.terraform.lql import matches
from tests.terraform.test_log_filter import TERRAFORM, effective_filter
from tests.terraform.test_wiring import SINK_TYPES

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["logexport-ingest", "logexport-drain", "logexport-forward"]
FORWARD_FOR_EACH = "local.forward"


def forward_resources(root: Module) -> list[tuple[str, str, dict[str, Any]]]:
    return [(t, n, b) for t, n, b in root.all_resources() if "forward" in n or n == "secretmanager"]


def test_everything_of_forward_exists_only_when_a_destination_is_given(root: Module) -> None:
    found = forward_resources(root)
    assert len(found) >= 20
    for rtype, name, body in found:
        gate = expr(body.get("for_each", body.get("count", "")))
        assert "local.forward" in gate, f"{rtype}.{name} is not gated on forwarding: {gate!r}"
    assert expr(root.local("forward_enabled")) == (
        "local.forward_destination_given || var.forward_destination_secret != null"
    )
    assert expr(root.local("forward_destination_given")) == "nonsensitive(var.forward_destination != null)"
    destination = root.variables["forward_destination"]
    assert destination["sensitive"] is True and destination["default"] is None
    assert root.variables["forward_destination_secret"]["default"] is None


@pytest.mark.parametrize("sink_type", SINK_TYPES)
def test_the_forward_sinks_publish_to_the_forward_topic_with_their_own_filter(root: Module, sink_type: str) -> None:
    sink = root.resource(sink_type, "forward")
    assert sink["destination"] == 'pubsub.googleapis.com/${google_pubsub_topic.forward["this"].id}'
    assert expr(sink["filter"]) == "module.forward_filter.filter"
    scope = {"google_logging_project_sink": "project", "google_logging_folder_sink": "folder"}.get(
        sink_type, "organization"
    )
    assert expr(sink["count"]) == f'local.forward_enabled && var.sink_scope == "{scope}" ? 1 : 0'
    call = root.modules["forward_filter"]
    assert call["source"] == "./modules/log-filter"
    assert expr(call["log_filter"]) == "coalesce(var.forward_log_filter, local.forward_default_filter)"
    assert expr(call["excluded_function_names"]) == "local.function_names"
    assert "${local.forward_function_name}" in root.local("function_names")  # excluded from every sink
    assert root.local("forward_function_name") == "${var.name_prefix}-forward"
    writer = root.resource("google_pubsub_topic_iam_member", "forward_sink_writer")
    assert (writer["role"], expr(writer["member"])) == ("roles/pubsub.publisher", "local.forward_sink_writer_identity")
    assert expr(writer["topic"]) == 'google_pubsub_topic.forward["this"].name'


# Sample LogEntries, shaped as cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry.
CONTAINER_STDOUT = {"resource": {"type": "k8s_container", "labels": {"namespace_name": "blog"}}, "severity": "INFO"}
CONTAINER_STDERR = {**CONTAINER_STDOUT, "logName": "projects/p/logs/stderr", "severity": "ERROR"}
KUBE_SYSTEM = {"resource": {"type": "k8s_container", "labels": {"namespace_name": "kube-system"}}}
LB_OK = {"resource": {"type": "http_load_balancer"}, "httpRequest": {"status": 200}, "severity": "INFO"}
LB_WARNING = {**LB_OK, "httpRequest": {"status": 502}, "severity": "WARNING"}
GCE_CRITICAL = {"resource": {"type": "gce_instance"}, "severity": "CRITICAL"}
AUDIT_NOTICE = {"resource": {"type": "gce_instance"}, "severity": "NOTICE"}
NO_SEVERITY = {"resource": {"type": "cloud_run_revision", "labels": {"service_name": "blog-api"}}}
# forward's own failure, logged as ERROR: forwarding it would loop.
OWN_FORWARD_ERROR = {"resource": {"type": "cloud_run_revision", "labels": {"service_name": "logexport-forward"}},
                     "severity": "ERROR"}  # fmt: skip
OWN_LABELLED_ERROR = {**GCE_CRITICAL, "labels": {"logexport_component": "forward"}}


@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")
@pytest.mark.parametrize(
    ("entry", "selected"),
    [
        (CONTAINER_STDOUT, True), (CONTAINER_STDERR, True), (KUBE_SYSTEM, True), (LB_WARNING, True),
        (GCE_CRITICAL, True), (LB_OK, False), (AUDIT_NOTICE, False), (NO_SEVERITY, False),
        (OWN_FORWARD_ERROR, False), (OWN_LABELLED_ERROR, False),
    ],
)  # fmt: skip
def test_default_forward_filter_is_the_cluster_and_warnings_minus_our_own(
    root: Module, entry: dict[str, Any], selected: bool
) -> None:
    default = root.local("forward_default_filter")
    assert default == 'resource.type="k8s_container" OR severity>=WARNING'
    text = effective_filter(log_filter=default, excluded_function_names=NAMES)
    assert text.startswith(f"({default}) AND NOT (")
    assert matches(text, entry) is selected


def test_pull_subscription_with_dead_letters(root: Module) -> None:
    sub = root.resource("google_pubsub_subscription", "forward")
    assert expr(sub["for_each"]) == FORWARD_FOR_EACH
    assert "push_config" not in sub
    assert expr(sub["topic"]) == 'google_pubsub_topic.forward["this"].id'
    policy = block(sub, "dead_letter_policy")
    assert expr(policy["dead_letter_topic"]) == 'google_pubsub_topic.forward_dead_letter["this"].id'
    assert expr(policy["max_delivery_attempts"]) == "var.max_delivery_attempts"
    assert blocks(sub, "retry_policy") and block(sub, "expiration_policy")["ttl"] == ""
    kept = root.resource("google_pubsub_subscription", "forward_dead_letter")
    assert kept["retain_acked_messages"] is True
    assert expr(kept["topic"]) == 'google_pubsub_topic.forward_dead_letter["this"].id'
    agent_publish = root.resource("google_pubsub_topic_iam_member", "forward_agent_dead_letter")
    agent_pull = root.resource("google_pubsub_subscription_iam_member", "forward_agent_source")
    for grant in (agent_publish, agent_pull):
        assert expr(grant["member"]) == "local.pubsub_service_agent"
    assert expr(agent_publish["topic"]) == 'google_pubsub_topic.forward_dead_letter["this"].name'
    assert expr(agent_pull["subscription"]) == 'google_pubsub_subscription.forward["this"].name'
    assert expr(sub["name"]) == "local.forward_subscription_name"
    assert root.local("forward_subscription_name") == "${var.name_prefix}-forward"
    assert root.local("forward_environment")["FORWARD_SUBSCRIPTION"] == (
        "projects/${var.project_id}/subscriptions/${local.forward_subscription_name}"
    )


def test_the_function_reads_the_destination_from_secret_manager(root: Module) -> None:
    function = root.resource("google_cloudfunctions2_function", "forward")
    build = block(function, "build_config")
    assert build["entry_point"] == "forward"
    assert expr(block(block(build, "source"), "storage_source")["object"]) == "google_storage_bucket_object.source.name"
    service = block(function, "service_config")
    assert expr(service["service_account_email"]) == 'google_service_account.forward["this"].email'
    assert service["max_instance_count"] == 1 and service["max_instance_request_concurrency"] == 1
    secret_env = block(service, "secret_environment_variables")
    assert secret_env["key"] == "FORWARD_DESTINATION" and secret_env["version"] == "latest"
    assert "local.forward_destination_secret" in references(secret_env["secret"])
    assert "FORWARD_DESTINATION" not in str(root.local("forward_environment"))  # never a plain variable
    (volume,) = dynamic_blocks(service, "secret_volumes")
    assert expr(volume["for_each"]) == "var.forward_ca_secret == null ? [] : ['${var.forward_ca_secret}']"
    assert expr(dynamic_content(volume)["mount_path"]) == "local.forward_ca_mount"
    (path,) = [v["path"] for v in blocks(dynamic_content(volume), "versions")]
    # FORWARD_CA_FILE names the file the volume mounts.
    assert root.local("forward_ca_environment") == (
        "${var.forward_ca_secret == null ? {} : {'FORWARD_CA_FILE': '${local.forward_ca_mount}/" + path + "'}}"
    )
    secret = root.resource("google_secret_manager_secret_version", "forward_destination")
    assert expr(secret["secret_data"]) == "var.forward_destination"


def test_every_forward_setting_terraform_sets_is_one_the_function_reads(root: Module) -> None:
    config = (ROOT / "functions" / "config.py").read_text()
    readme = (ROOT / "README.md").read_text()
    names = set(root.local("forward_environment")) | {"FORWARD_CA_FILE", "FORWARD_DESTINATION"}
    for name in names - {"GOOGLE_CLOUD_PROJECT"}:
        assert f'"{name}"' in config, f"{name} is set by Terraform but functions/config.py never reads it"
        assert f"| `{name}` |" in readme, f"{name} is missing from the README's configuration reference"
    read = set(re.findall(r'"(FORWARD_[A-Z_]+)"', config))
    assert read <= names


def test_least_privilege_for_forward(root: Module) -> None:
    accessors = {
        name: body
        for rtype, name, body in root.all_resources()
        if body.get("role") == "roles/secretmanager.secretAccessor"
    }
    assert set(accessors) == {"forward_destination_accessor", "forward_ca_accessor"}
    assert expr(accessors["forward_destination_accessor"]["secret_id"]) == "local.forward_destination_secret"
    assert expr(accessors["forward_ca_accessor"]["secret_id"]) == "var.forward_ca_secret"
    for grant in accessors.values():
        assert expr(grant["member"]) == 'google_service_account.forward["this"].member'
    subscriber = root.resource("google_pubsub_subscription_iam_member", "forward_subscriber")
    assert expr(subscriber["subscription"]) == 'google_pubsub_subscription.forward["this"].name'
    assert expr(subscriber["member"]) == 'google_service_account.forward["this"].member'
    # forward's account appears in no other grant: no BigQuery, no Cloud Storage, no project role.
    users = sorted(
        name for rtype, name, body in root.all_resources()
        if "_iam_" in rtype and 'google_service_account.forward["this"].member' in str(body)
    )  # fmt: skip
    assert users == ["forward_ca_accessor", "forward_destination_accessor", "forward_subscriber"]


def test_scheduler_calls_forward_every_minute_with_oidc(root: Module) -> None:
    job = root.resource("google_cloud_scheduler_job", "forward")
    assert expr(job["schedule"]) == "var.forward_schedule"
    assert root.variables["forward_schedule"]["default"] == "* * * * *"
    assert block(job, "retry_config")["retry_count"] == 0
    target = block(job, "http_target")
    oidc = block(target, "oidc_token")
    assert expr(oidc["service_account_email"]) == 'google_service_account.forward_scheduler["this"].email'
    assert expr(oidc["audience"]) == expr(target["uri"])


@pytest.mark.parametrize("name", ["forward", "forward_scheduler"])
def test_service_account_ids_fit_with_the_longest_prefix(root: Module, name: str) -> None:
    account_id = expr(root.resource("google_service_account", name)["account_id"])
    longest_prefix = 22  # name_prefix's validation
    suffix = account_id.removeprefix("${var.name_prefix}")
    assert account_id.startswith("${var.name_prefix}") and longest_prefix + len(suffix) <= 30, account_id


def test_defaults_keep_runs_from_overlapping(root: Module) -> None:
    budget = root.variables["forward_budget_seconds"]["default"]
    timeout = root.variables["forward_timeout_seconds"]["default"]
    assert budget < 60 and budget + 30 <= timeout  # every minute, within the function's timeout
    function = root.resource("google_cloudfunctions2_function", "forward")
    conditions = [expr(p["condition"]) for p in blocks(block(function, "lifecycle"), "precondition")]
    assert "var.forward_budget_seconds + 30 <= var.forward_timeout_seconds" in conditions


def test_readme_of_the_module_covers_forwarding() -> None:
    readme = (TF_DIR / "README.md").read_text()
    assert "forward.tf" in readme and "forward_destination" in readme
