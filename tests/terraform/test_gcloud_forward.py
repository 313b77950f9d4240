"""deploy/gcloud-deploy.sh with forwarding: off by default, the destination only ever in Secret
Manager (never printed, never a plain variable), and the same filter as Terraform's."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.terraform.test_gcloud_deploy import SCRIPT, _find, _flag, dry_run
from tests.terraform.test_log_filter import TERRAFORM, effective_filter

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")

DESTINATION = "syslog+tls://logs7.papertrailapp.com:51234"
NAMES = ["logexport-ingest", "logexport-drain", "logexport-forward"]


def test_no_forwarding_unless_a_destination_is_given(tmp_path: Path) -> None:
    commands = dry_run(tmp_path)
    assert not [c for c in commands if "logexport-forward" in " ".join(c) and "sinks" not in " ".join(c)]
    assert not [c for c in commands if c[:2] == ["gcloud", "secrets"]]


def test_forwarding_deploys_behind_iam_with_the_destination_in_secret_manager(tmp_path: Path) -> None:
    commands = dry_run(tmp_path, FORWARD_DESTINATION=DESTINATION)
    printed = "\n".join(" ".join(c) for c in commands)
    assert "papertrailapp" not in printed and "51234" not in printed
    _find(commands, "gcloud", "secrets", "create", "logexport-forward-destination")
    added = _find(commands, "gcloud", "secrets", "versions", "add", "logexport-forward-destination")
    assert _flag(added, "data-file") == "-"  # from stdin
    (accessor,) = [c for c in commands if c[:3] == ["gcloud", "secrets", "add-iam-policy-binding"]]
    assert _flag(accessor, "member") == "serviceAccount:logexport-forward@demo-proj.iam.gserviceaccount.com"
    assert _flag(accessor, "role") == "roles/secretmanager.secretAccessor"

    function = _find(commands, "gcloud", "functions", "deploy", "logexport-forward")
    assert _flag(function, "entry-point") == "forward"
    assert "--no-allow-unauthenticated" in function
    assert _flag(function, "set-secrets") == "FORWARD_DESTINATION=logexport-forward-destination:latest"
    env = dict(pair.split("=", 1) for pair in _flag(function, "set-env-vars").split(","))
    assert "FORWARD_DESTINATION" not in env
    assert env["FORWARD_SUBSCRIPTION"] == "projects/demo-proj/subscriptions/logexport-forward"
    assert (env["FORWARD_FRAMING"], env["FORWARD_FACILITY"], env["FORWARD_MAX_MESSAGE_BYTES"]) == (
        "octet-counting", "user", "100000",
    )  # fmt: skip
    assert (_flag(function, "max-instances"), _flag(function, "concurrency")) == ("1", "1")

    pull = _find(commands, "gcloud", "pubsub", "subscriptions", "create", "logexport-forward")
    assert _flag(pull, "dead-letter-topic") == "logexport-forward-dead-letter"
    assert "--push-endpoint" not in " ".join(pull)
    job = _find(commands, "gcloud", "scheduler", "jobs", "create", "http", "logexport-forward")
    assert _flag(job, "schedule") == "* * * * *"
    assert _flag(job, "oidc-service-account-email") == "logexport-fwdcron@demo-proj.iam.gserviceaccount.com"
    invoker = _find(commands, "gcloud", "functions", "add-invoker-policy-binding", "logexport-forward")
    assert _flag(invoker, "member") == "serviceAccount:logexport-fwdcron@demo-proj.iam.gserviceaccount.com"
    project_grants = [c for c in commands if c[:3] == ["gcloud", "projects", "add-iam-policy-binding"]]
    assert {_flag(c, "member") for c in project_grants} == {  # the build account's, nothing of forward's
        "serviceAccount:logexport-build@demo-proj.iam.gserviceaccount.com"
    }


@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")
def test_the_forward_sink_uses_terraforms_filter(tmp_path: Path) -> None:
    commands = dry_run(tmp_path, FORWARD_DESTINATION=DESTINATION)
    sink = _find(commands, "gcloud", "logging", "sinks", "create", "logexport-forward")
    expected = effective_filter(
        log_filter='resource.type="k8s_container" OR severity>=WARNING', excluded_function_names=NAMES
    )
    assert _flag(sink, "log-filter") == expected


def test_an_existing_secret_and_a_ca_bundle(tmp_path: Path) -> None:
    commands = dry_run(tmp_path, FORWARD_DESTINATION_SECRET="papertrail-url", FORWARD_CA_SECRET="relay-ca")
    assert not [c for c in commands if c[:3] == ["gcloud", "secrets", "create"]]
    function = _find(commands, "gcloud", "functions", "deploy", "logexport-forward")
    assert _flag(function, "set-secrets") == (
        "FORWARD_DESTINATION=papertrail-url:latest,/etc/logexport/forward-ca/ca.pem=relay-ca:latest"
    )
    assert "FORWARD_CA_FILE=/etc/logexport/forward-ca/ca.pem" in _flag(function, "set-env-vars").split(",")
    granted = [c[3] for c in commands if c[:3] == ["gcloud", "secrets", "add-iam-policy-binding"]]
    assert granted == ["papertrail-url", "relay-ca"]


def test_a_plain_destination_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True, check=False, timeout=60,
        env={**os.environ, "PROJECT_ID": "demo-proj", "FORWARD_DESTINATION": "logs7.papertrailapp.com:51234"},
    )  # fmt: skip
    assert result.returncode != 0
    assert "syslog+tls://" in result.stderr and "51234" not in result.stderr
