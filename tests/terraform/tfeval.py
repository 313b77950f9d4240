"""Evaluate the root module's variables and provider-free locals with Terraform itself, offline.

The root module needs the google provider, which cannot be downloaded here, so `terraform
console` cannot load it. variables.tf and locations.tf reference nothing but variables,
though: copied alone into a directory they form a module without providers, and
`terraform console` there evaluates every variable validation and those locals.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.terraform.hcl import TF_DIR

TERRAFORM = shutil.which("terraform")
PROVIDER_FREE_FILES = ("variables.tf", "locations.tf")
ENV = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "NO_COLOR": "1"}


@dataclass(frozen=True)
class Evaluation:
    returncode: int
    value: Any
    stderr: str

    @property
    def errors(self) -> str:
        """Terraform's error text on one line per paragraph (messages wrap at 80 columns)."""
        return " ".join(self.stderr.split())


def evaluate(workdir: Path, expression: str, variables: dict[str, Any]) -> Evaluation:
    """`expression` evaluated with `variables` set (project_id defaults to a valid ID)."""
    assert TERRAFORM is not None
    module = workdir / "module"
    if not module.exists():
        module.mkdir(parents=True)
        for name in PROVIDER_FREE_FILES:
            shutil.copy(TF_DIR / name, module / name)
    var_file = workdir / "values.tfvars.json"
    var_file.write_text(json.dumps({"project_id": "demo-proj", **variables}))
    done = subprocess.run(
        [TERRAFORM, f"-chdir={module}", "console", "-no-color", f"-var-file={var_file}"],
        input=f"jsonencode({expression})",
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        check=False,
    )
    # console exits 0 after reporting an invalid variable unless the expression uses it.
    failed = done.returncode != 0 or "Error:" in done.stderr
    lines = done.stdout.strip().splitlines()
    value = None if failed or not lines else json.loads(json.loads(lines[-1]))
    return Evaluation(done.returncode or int(failed), value, done.stderr)
