"""Every setting the functions read (functions/config.py) is in the README's configuration
reference, and each of those reaches the functions from Terraform and from
deploy/gcloud-deploy.sh; Terraform's preconditions refuse exactly the budgets the functions refuse."""

from __future__ import annotations

import itertools
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from functions import config
from functions.config import ConfigError, Settings
from tests.terraform.hcl import REPO_ROOT, Module, block
from tests.terraform.test_gcloud_deploy import dry_run

LOCAL_ONLY = {"BIGQUERY_EMULATOR_HOST", "BIGQUERY_STORAGE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"}
ALIASES = {"GCP_PROJECT"}  # read as a fallback of GOOGLE_CLOUD_PROJECT
_READ = re.compile(r'(?:env\.get\(|_(?:int|bool|float|choice)\(\s*env,\s*)"([A-Z][A-Z0-9_]+)"')
_NAME = re.compile(r'["\']?([A-Z][A-Z0-9_]+)["\']?\s*[:=]')


def settings_read() -> set[str]:
    return set(_READ.findall((REPO_ROOT / "functions" / "config.py").read_text())) - LOCAL_ONLY - ALIASES


def readme_reference() -> set[str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## Configuration reference", 1)[1].split("Local and test runs only", 1)[0]
    return set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", section, re.MULTILINE))


def terraform_environment(root: Module) -> dict[str, set[str]]:
    def names(local: str) -> set[str]:
        value = root.local(local)
        return set(value) if isinstance(value, dict) else set(_NAME.findall(value))

    shared = names("common_environment") | names("runtime_environment")
    forward = root.resource("google_cloudfunctions2_function", "forward")
    secrets = {s["key"] for s in block(forward, "service_config")["secret_environment_variables"]}
    return {
        "ingest": shared | names("ingest_environment"),
        "drain": shared | names("drain_only_environment"),
        "forward": names("forward_environment") | names("forward_ca_environment") | secrets,
    }


def test_every_setting_read_is_in_the_readme_reference() -> None:
    read, documented = settings_read(), readme_reference()
    assert read, "no setting found in functions/config.py: the pattern is stale"
    assert read <= documented, f"missing from the README's configuration reference: {sorted(read - documented)}"
    assert documented <= read | {"GOOGLE_CLOUD_PROJECT"}, f"documented, never read: {sorted(documented - read)}"


def test_terraform_sets_every_setting_of_the_reference(root: Module) -> None:
    environment = terraform_environment(root)
    assert readme_reference() <= environment["ingest"] | environment["drain"] | environment["forward"]
    for knob in ("WRITE_BUDGET_SECONDS", "MAX_MESSAGE_BYTES", "LOG_LEVEL", "ACK_DEADLINE_SECONDS"):
        assert knob in environment["ingest"] and knob in environment["drain"], knob
    assert "INGEST_TIMEOUT_SECONDS" in environment["ingest"] and "DRAIN_TIMEOUT_SECONDS" in environment["drain"]
    assert "LOG_LEVEL" in environment["forward"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_gcloud_script_sets_every_setting_of_the_reference(tmp_path: Path) -> None:
    commands = dry_run(
        tmp_path, MODE="both", FORWARD_DESTINATION="syslog+tls://logs7.papertrailapp.com:51234", FORWARD_CA_SECRET="ca"
    )
    deploys = [c for c in commands if c[:3] == ["gcloud", "functions", "deploy"]]
    assert len(deploys) == 3
    names: set[str] = set()
    for command in deploys:
        for flag in ("--set-env-vars=", "--set-secrets="):
            for value in [a.split("=", 1)[1] for a in command if a.startswith(flag)]:
                names |= {pair.split("=", 1)[0] for pair in value.split(",")}
    assert readme_reference() <= names, f"not settable from the script: {sorted(readme_reference() - names)}"


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_gcloud_script_refuses_budgets_that_cannot_nest(tmp_path: Path) -> None:
    (tmp_path / "push").mkdir()
    with pytest.raises(AssertionError, match="INGEST_TIMEOUT_SECONDS"):
        dry_run(tmp_path / "push", MODE="push", WRITE_BUDGET_SECONDS="100")
    with pytest.raises(AssertionError, match="DRAIN_TIMEOUT_SECONDS"):
        dry_run(tmp_path, WRITE_BUDGET_SECONDS="100")  # batch: drain writes rows and archive


# --- the same budgets in Terraform and in Settings ---------------------------------------------


def test_terraform_uses_the_time_model_of_the_functions(root: Module) -> None:
    assert root.local("write_overrun_seconds") == config.WRITE_OVERRUN_SECONDS
    assert root.local("pull_timeout_seconds") == config.PULL_TIMEOUT_SECONDS
    assert root.local("ack_timeout_seconds") == config.ACK_TIMEOUT_SECONDS
    assert root.local("response_margin_seconds") == config.RESPONSE_MARGIN_SECONDS


def _evaluate(root: Module, expression: str, variables: dict[str, Any], depth: int = 0) -> Any:
    """A Terraform arithmetic/comparison expression of this module, in Python: `var.x`, `local.y`
    (recursively), numbers, + - * / <= >= < > and `c ? a : b` on a parenthesised condition."""
    assert depth < 10
    text = expression.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    text = re.sub(r"\(?((?:var|local)\.[a-z0-9_]+) \? ([0-9.]+) : ([0-9.]+)\)?", r"(\2 if \1 else \3)", text)
    text = text.replace("||", " or ")
    for name in set(re.findall(r"local\.([a-z0-9_]+)", text)):
        value = root.local(name)
        text = text.replace(f"local.{name}", f"({_evaluate(root, str(value), variables, depth + 1)})")
    text = re.sub(r"var\.([a-z0-9_]+)", lambda m: repr(variables[m.group(1)]), text)
    assert re.fullmatch(r"([0-9.()+\-*/<>= ]|if|else|or|True|False|'[a-z]+'|\"[a-z]+\")+", text), (
        f"cannot evaluate: {text}"
    )
    return eval(text)  # checked above: numbers, operators, booleans only


def _terraform_accepts(root: Module, function: str, variables: dict[str, Any]) -> bool:
    resource = root.resource("google_cloudfunctions2_function", function)
    conditions = [p["condition"] for p in block(resource, "lifecycle")["precondition"]]
    return all(_evaluate(root, c, variables) for c in conditions)


def _functions_accept(function: str, variables: dict[str, Any]) -> bool:
    settings = Settings(
        write_budget_seconds=variables["write_budget_seconds"],
        ingest_batch_wait_ms=variables["ingest_batch_wait_ms"],
        ingest_write_archive=variables["ingest_write_archive"],
        drain_write_bigquery=variables["mode"] == "batch" or variables["drain_write_bigquery"],
        drain_budget_seconds=variables["drain_budget_seconds"],
        ingest_timeout_seconds=variables["ingest_timeout_seconds"],
        drain_timeout_seconds=variables["drain_timeout_seconds"],
        ack_deadline_seconds=variables["ack_deadline_seconds"],
    )
    try:
        settings.check_ingest() if function == "ingest" else settings.check_drain()
    except ConfigError:
        return False
    return True


def test_terraform_refuses_exactly_the_budgets_the_functions_refuse(root: Module) -> None:
    grid: dict[str, list[Any]] = {
        "write_budget_seconds": [5, 30, 58, 120],
        "ingest_batch_wait_ms": [0, 20, 1000],
        "ingest_write_archive": [False, True],
        "mode": ["batch", "both"],  # batch: drain writes rows whatever drain_write_bigquery says
        "drain_write_bigquery": [False, True],
        "drain_budget_seconds": [60, 200, 250],
        "ingest_timeout_seconds": [30, 60, 120],
        "drain_timeout_seconds": [300],
        "ack_deadline_seconds": [20, 120],
    }
    defaults = {name: root.variables[name]["default"] for name in grid}
    assert _terraform_accepts(root, "ingest", defaults) and _terraform_accepts(root, "drain", defaults)
    seen = set()
    for values in itertools.product(*grid.values()):
        variables = dict(zip(grid, values, strict=True))
        for function in ("ingest", "drain"):
            verdict = _terraform_accepts(root, function, variables)
            assert verdict == _functions_accept(function, variables), (function, variables)
            seen.add(verdict)
    assert seen == {True, False}
