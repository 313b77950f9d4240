"""Every `var.X` and `local.X` a module uses is declared in that module.

`terraform validate` would catch an undeclared reference, but it needs the provider, which
can't be downloaded here; the provider-schema check reads arguments, not references. Two
branches merged on the same day showed the gap: one renamed `kms_key_name`, the other still
used it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.terraform.hcl import TF_DIR

_VAR_USE = re.compile(r"\bvar\.([A-Za-z_][A-Za-z0-9_-]*)")
_LOCAL_USE = re.compile(r"\blocal\.([A-Za-z_][A-Za-z0-9_-]*)")
_VAR_DECL = re.compile(r'^variable\s+"([^"]+)"', re.M)
_LOCALS_BLOCK = re.compile(r"^locals\s*\{\n(.*?)^\}", re.M | re.S)
_LOCAL_DECL = re.compile(r"^  ([A-Za-z_][A-Za-z0-9_-]*)\s*=", re.M)
_COMMENT = re.compile(r"#[^\n]*|//[^\n]*")

MODULE_DIRS = sorted({p.parent for p in TF_DIR.rglob("*.tf") if ".terraform" not in p.parts})


def _sources(directory: Path) -> str:
    return "\n".join(_COMMENT.sub("", p.read_text()) for p in sorted(directory.glob("*.tf")))


def undeclared(source: str) -> set[str]:
    variables = set(_VAR_DECL.findall(source))
    local_names = {name for block in _LOCALS_BLOCK.findall(source) for name in _LOCAL_DECL.findall(block)}
    missing = {f"var.{v}" for v in _VAR_USE.findall(source)} - {f"var.{v}" for v in variables}
    missing |= {f"local.{v}" for v in _LOCAL_USE.findall(source)} - {f"local.{v}" for v in local_names}
    return missing


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=lambda d: str(d.relative_to(TF_DIR)) or "root")
def test_every_reference_is_declared(directory: Path) -> None:
    assert not undeclared(_sources(directory))


def test_the_check_sees_an_undeclared_variable() -> None:
    source = _sources(TF_DIR) + '\nresource "x" "y" {\n  a = var.kms_key_name\n  b = local.nowhere\n}\n'
    assert undeclared(source) == {"var.kms_key_name", "local.nowhere"}
