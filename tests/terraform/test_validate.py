"""`terraform fmt` always; `terraform validate` only where the providers are installed.

The google provider cannot be downloaded on the development machines, so validation runs
with `terraform init -plugin-dir=...`, which never contacts a registry, and is skipped when
no local plugin directory holds every provider the module needs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.terraform.hcl import TF_DIR

TERRAFORM = shutil.which("terraform")
PROVIDERS = ("hashicorp/google", "hashicorp/google-beta", "hashicorp/archive", "hashicorp/time")
ENV = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}

pytestmark = pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")


def _candidate_plugin_dirs() -> list[Path]:
    home = Path.home()
    candidates = [
        os.environ.get("TF_PLUGIN_CACHE_DIR"),
        str(home / ".terraform.d" / "plugins"),
        str(home / ".local" / "share" / "terraform" / "plugins"),
        "/usr/local/share/terraform/plugins",
        "/usr/share/terraform/plugins",
        "/opt/tf-plugins",
    ]
    return [Path(c) for c in candidates if c]


def _has_provider(directory: Path, provider: str) -> bool:
    # Unpacked layout: HOSTNAME/NAMESPACE/TYPE/VERSION/OS_ARCH/terraform-provider-TYPE_*
    return any((directory / "registry.terraform.io" / provider).glob("*/*/terraform-provider-*"))


def plugin_dir() -> Path | None:
    for directory in _candidate_plugin_dirs():
        if all(_has_provider(directory, p) for p in PROVIDERS):
            return directory
    return None


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    assert TERRAFORM is not None
    return subprocess.run(
        [TERRAFORM, *args], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300, check=False
    )


def test_fmt_is_clean() -> None:
    result = _run(["fmt", "-check", "-recursive", "-diff", str(TF_DIR)], cwd=TF_DIR)
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("module", [".", "examples/basic"])
def test_validate(tmp_path: Path, module: str) -> None:
    plugins = plugin_dir()
    if plugins is None:
        pytest.skip(
            "google provider not installed: cannot be downloaded here "
            f"(looked for {', '.join(PROVIDERS)} under {', '.join(map(str, _candidate_plugin_dirs()))})"
        )
    copy = tmp_path / "terraform"
    shutil.copytree(TF_DIR, copy, ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", ".build"))
    workdir = copy / module
    init = _run(["init", "-backend=false", "-input=false", f"-plugin-dir={plugins}"], cwd=workdir)
    assert init.returncode == 0, init.stdout + init.stderr
    validate = _run(["validate", "-json"], cwd=workdir)
    report = json.loads(validate.stdout)
    assert report["valid"] is True, json.dumps(report["diagnostics"], indent=2)
