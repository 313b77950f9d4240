"""`mode` (batch, push, both) decides which consumers Terraform creates, as local/pipeline.py
runs them locally and deploy/gcloud-deploy.sh deploys them."""

from __future__ import annotations

import re

import pytest

from local.pipeline import DEFAULT_MODE, MODES, LocalPipeline
from tests.terraform.hcl import Module, expr

PUSH_SIDE = [
    ("google_cloudfunctions2_function", "ingest"),
    ("google_pubsub_subscription", "ingest"),
    ("google_pubsub_topic", "ingest_dead_letter"),
    ("google_service_account", "ingest"),
    ("google_service_account", "push"),
    ("google_cloud_run_v2_service_iam_member", "ingest_invoker"),
]
PULL_SIDE = [
    ("google_cloudfunctions2_function", "drain"),
    ("google_cloud_scheduler_job", "drain"),
    ("google_pubsub_subscription", "drain"),
    ("google_pubsub_topic", "drain_dead_letter"),
    ("google_service_account", "drain"),
    ("google_service_account", "scheduler"),
    ("google_cloud_run_v2_service_iam_member", "drain_invoker"),
    ("google_pubsub_subscription_iam_member", "drain_subscriber"),
]


def bare(expression: object) -> str:
    """The expression without quotes: python-hcl2 mixes quote styles inside literals."""
    return re.sub("[\"']", "", expr(expression))


def test_the_mode_variable_is_the_local_pipelines(root: Module) -> None:
    variable = root.variables["mode"]
    assert variable["default"] == DEFAULT_MODE == "batch"
    (validation,) = variable["validation"]
    assert bare(validation["condition"]) == f"contains([{', '.join(MODES)}], var.mode)"


@pytest.mark.parametrize(("resource_type", "name"), PUSH_SIDE)
def test_push_side_exists_in_push_and_both(root: Module, resource_type: str, name: str) -> None:
    assert expr(root.resource(resource_type, name)["for_each"]) == "local.push"


@pytest.mark.parametrize(("resource_type", "name"), PULL_SIDE)
def test_pull_side_exists_in_batch_and_both(root: Module, resource_type: str, name: str) -> None:
    assert expr(root.resource(resource_type, name)["for_each"]) == "local.pull"


@pytest.mark.parametrize("mode", MODES)
def test_terraform_deploys_what_the_local_pipeline_runs(root: Module, mode: str) -> None:
    assert bare(root.local("push_enabled")) == "contains([push, both], var.mode)"
    assert bare(root.local("pull_enabled")) == "contains([batch, both], var.mode)"
    assert bare(root.local("push")) == "local.push_enabled ? toset([this]) : toset([])"
    assert bare(root.local("pull")) == "local.pull_enabled ? toset([this]) : toset([])"
    local = LocalPipeline(mode=mode)  # type: ignore[arg-type]  # a str from the parametrization
    assert local.runs("ingest") == (mode in ("push", "both"))
    assert local.runs("drain") == (mode in ("batch", "both"))
    # In batch mode drain is the only writer, so it writes the rows too.
    assert bare(root.local("drain_write_bigquery")) == "var.mode == batch || var.drain_write_bigquery"
    assert local.function_env()["DRAIN_WRITE_BIGQUERY"] == ("true" if mode == "batch" else "false")
    local.stop()
