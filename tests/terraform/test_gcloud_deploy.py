"""deploy/gcloud-deploy.sh: the dry run calls no cloud tool and builds the same filter."""

from __future__ import annotations

import codecs
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from functions.views import HTTP_REQUESTS_DEDUP
from tests.terraform.hcl import REPO_ROOT
from tests.terraform.test_log_filter import TERRAFORM, effective_filter

SCRIPT = REPO_ROOT / "deploy" / "gcloud-deploy.sh"


def dry_run(tmp_path: Path, **env: str) -> list[list[str]]:
    # Fake gcloud/bq that fail loudly: a dry run must not call them.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for tool in ("gcloud", "bq"):
        fake = fake_bin / tool
        fake.write_text(f"#!/bin/sh\necho 'dry run called {tool}' >&2\nexit 99\n")
        fake.chmod(0o755)
    environment = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "PROJECT_ID": "demo-proj", **env}
    result = subprocess.run(
        ["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True, env=environment, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "dry run called" not in result.stderr
    return [shlex.split(_ansi_c_quotes_to_posix(line)) for line in result.stdout.splitlines() if line.strip()]


def _ansi_c_quotes_to_posix(line: str) -> str:
    """printf %q writes a multi-line argument as $'...\\n...', which shlex cannot read."""
    return re.sub(
        r"\$'((?:[^'\\]|\\.)*)'",
        lambda m: shlex.quote(codecs.decode(m.group(1), "unicode_escape")),
        line,
    )


def _flag(command: list[str], name: str) -> str:
    values = [arg.split("=", 1)[1] for arg in command if arg.startswith(f"--{name}=")]
    assert len(values) == 1, f"--{name} in {command}"
    return values[0]


def _find(commands: list[list[str]], *prefix: str) -> list[str]:
    found = [c for c in commands if c[: len(prefix)] == list(prefix)]
    assert len(found) == 1, f"{' '.join(prefix)}: {found}"
    return found[0]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_dry_run_deploys_both_functions_behind_iam(tmp_path: Path) -> None:
    commands = dry_run(tmp_path, MODE="both")
    ingest = _find(commands, "gcloud", "functions", "deploy", "logexport-ingest")
    assert _flag(ingest, "entry-point") == "ingest"
    assert _flag(ingest, "runtime") == "python312"
    assert "--trigger-http" in ingest and "--no-allow-unauthenticated" in ingest
    assert "DRAIN_SUBSCRIPTION" not in _flag(ingest, "set-env-vars")
    assert "INGEST_WRITE_ARCHIVE=false" in _flag(ingest, "set-env-vars").split(",")
    archive_grants = [c for c in commands if c[:4] == ["gcloud", "storage", "buckets", "add-iam-policy-binding"]]
    assert [_flag(c, "member") for c in archive_grants] == [
        "serviceAccount:logexport-drain@demo-proj.iam.gserviceaccount.com"
    ]
    drain = _find(commands, "gcloud", "functions", "deploy", "logexport-drain")
    assert _flag(drain, "entry-point") == "drain"
    env = dict(pair.split("=", 1) for pair in _flag(drain, "set-env-vars").split(","))
    assert env["DRAIN_SUBSCRIPTION"] == "projects/demo-proj/subscriptions/logexport-drain"
    assert env["DRAIN_WRITE_BIGQUERY"] == "false"
    push = _find(commands, "gcloud", "pubsub", "subscriptions", "create", "logexport-ingest")
    assert _flag(push, "dead-letter-topic") == "logexport-ingest-dead-letter"
    assert _flag(push, "push-auth-service-account") == "logexport-push@demo-proj.iam.gserviceaccount.com"
    pull = _find(commands, "gcloud", "pubsub", "subscriptions", "create", "logexport-drain")
    assert _flag(pull, "dead-letter-topic") == "logexport-drain-dead-letter"
    # Project-level grants: only the build account's logs, and its read of the function sources.
    project_grants = [c for c in commands if c[:3] == ["gcloud", "projects", "add-iam-policy-binding"]]
    assert {_flag(c, "member") for c in project_grants} == {f"serviceAccount:{BUILD_SA}"}
    assert sorted(_flag(c, "role") for c in project_grants) == ["roles/logging.logWriter", "roles/storage.objectViewer"]


BUILD_SA = "logexport-build@demo-proj.iam.gserviceaccount.com"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
@pytest.mark.parametrize("given", ["", "builder@other-proj.iam.gserviceaccount.com"])
def test_functions_build_as_a_build_account_with_the_grants_a_build_needs(tmp_path: Path, given: str) -> None:
    """New projects give Cloud Build's default account no build roles (since mid-2024), so the
    script builds as its own account, as Terraform does, or as BUILD_SERVICE_ACCOUNT."""
    commands = dry_run(tmp_path, MODE="both", BUILD_SERVICE_ACCOUNT=given)
    account = given or BUILD_SA
    created = [c for c in commands if c[:4] == ["gcloud", "iam", "service-accounts", "create"]]
    assert ("logexport-build" in [c[4] for c in created]) == (not given)
    repository = "projects/demo-proj/locations/europe-west1/repositories/logexport-functions"
    deploys = [c for c in commands if c[:3] == ["gcloud", "functions", "deploy"]]
    assert len(deploys) == 2
    for deploy in deploys:
        assert _flag(deploy, "build-service-account") == f"projects/demo-proj/serviceAccounts/{account}"
        assert _flag(deploy, "docker-repository") == repository
    writer = _find(commands, "gcloud", "artifacts", "repositories", "add-iam-policy-binding", "logexport-functions")
    assert (_flag(writer, "member"), _flag(writer, "role")) == (
        f"serviceAccount:{account}",
        "roles/artifactregistry.writer",
    )
    grants = {_flag(c, "role"): c for c in commands if c[:3] == ["gcloud", "projects", "add-iam-policy-binding"]}
    assert set(grants) == {"roles/logging.logWriter", "roles/storage.objectViewer"}
    assert all(_flag(c, "member") == f"serviceAccount:{account}" for c in grants.values())
    sources = _flag(grants["roles/storage.objectViewer"], "condition")
    assert 'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-<PROJECT_NUMBER>-europe-west1")' in sources
    # Everything the build needs exists before the first deploy.
    first_deploy = commands.index(deploys[0])
    assert commands.index(writer) < first_deploy
    assert all(commands.index(c) < first_deploy for c in grants.values())


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_default_mode_is_batch_drain_writes_rows_every_minute_and_nothing_pushes(tmp_path: Path) -> None:
    commands = dry_run(tmp_path)
    deployed = [c[3] for c in commands if c[:3] == ["gcloud", "functions", "deploy"]]
    assert deployed == ["logexport-drain"]
    drain = _find(commands, "gcloud", "functions", "deploy", "logexport-drain")
    env = dict(pair.split("=", 1) for pair in _flag(drain, "set-env-vars").split(","))
    assert env["DRAIN_WRITE_BIGQUERY"] == "true"
    assert _flag(_find(commands, "gcloud", "scheduler", "jobs", "create", "http", "logexport-drain"), "schedule") == (
        "* * * * *"
    )
    created = [c[4] for c in commands if c[:4] == ["gcloud", "pubsub", "subscriptions", "create"]]
    assert sorted(created) == ["logexport-drain", "logexport-drain-dead-letter"]
    accounts = [c[4] for c in commands if c[:4] == ["gcloud", "iam", "service-accounts", "create"]]
    assert sorted(accounts) == ["logexport-build", "logexport-drain", "logexport-sched"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_push_mode_deploys_ingest_alone_with_no_scheduler(tmp_path: Path) -> None:
    commands = dry_run(tmp_path, MODE="push")
    assert [c[3] for c in commands if c[:3] == ["gcloud", "functions", "deploy"]] == ["logexport-ingest"]
    assert not [c for c in commands if c[:3] == ["gcloud", "scheduler", "jobs"]]
    created = [c[4] for c in commands if c[:4] == ["gcloud", "pubsub", "subscriptions", "create"]]
    assert sorted(created) == ["logexport-ingest", "logexport-ingest-dead-letter"]
    assert not [c for c in commands if c[:4] == ["gcloud", "storage", "buckets", "add-iam-policy-binding"]]


@pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")
@pytest.mark.parametrize("namespaces", ["default", "blog ingress-nginx", ""])
def test_dry_run_uses_the_terraform_filter(tmp_path: Path, namespaces: str) -> None:
    commands = dry_run(tmp_path, GKE_NAMESPACES=namespaces)
    sink = _find(commands, "gcloud", "logging", "sinks", "create", "logexport-http-requests")
    names = ["logexport-ingest", "logexport-drain", "logexport-forward"]  # forward's logs: excluded even when off
    assert _flag(sink, "log-filter") == effective_filter(
        gke_namespaces=namespaces.split(), excluded_function_names=names
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_dry_run_creates_the_view_terraform_deploys(tmp_path: Path) -> None:
    commands = dry_run(tmp_path)
    view = _find(commands, "bq", "--project_id=demo-proj", "mk", "--use_legacy_sql=false")
    assert view[-1] == "demo-proj:logs.http_requests_dedup"
    sql = _flag(view, "view")
    assert sql == HTTP_REQUESTS_DEDUP.render(requests_table="demo-proj.logs.http_requests").rstrip("\n")
