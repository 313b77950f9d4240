"""Read a Terraform module with python-hcl2 so tests can assert on its wiring.

python-hcl2 (7.x) gives every file as a dict: blocks are lists of dicts, expressions are
strings wrapped in ``${...}``, literal strings stay plain, and ``dynamic "x"`` blocks land
under the key ``dynamic`` as ``[{"x": {"for_each": ..., "content": [...]}}]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcl2.api import load as hcl_load

REPO_ROOT = Path(__file__).resolve().parents[2]
TF_DIR = REPO_ROOT / "terraform"

Body = dict[str, Any]

_REFERENCE = re.compile(
    r"\b(?:(?:data\.)?google_[a-z0-9_]+\.[a-z0-9_]+|local\.[a-z0-9_]+|var\.[a-z0-9_]+|module\.[a-z0-9_]+)"
)


@dataclass
class Module:
    """The top-level blocks of every ``*.tf`` file of one directory."""

    path: Path
    resources: dict[str, dict[str, Body]] = field(default_factory=dict)
    data: dict[str, dict[str, Body]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Body] = field(default_factory=dict)
    outputs: dict[str, Body] = field(default_factory=dict)
    modules: dict[str, Body] = field(default_factory=dict)
    terraform: list[Body] = field(default_factory=list)

    def resource(self, rtype: str, name: str) -> Body:
        assert rtype in self.resources, f"no {rtype} resource in {self.path}"
        assert name in self.resources[rtype], f"no {rtype}.{name} in {self.path}"
        return self.resources[rtype][name]

    def resources_of(self, rtype: str) -> dict[str, Body]:
        return self.resources.get(rtype, {})

    def local(self, name: str) -> Any:
        assert name in self.locals, f"no local.{name} in {self.path}"
        return self.locals[name]

    def all_resources(self) -> list[tuple[str, str, Body]]:
        return [(rtype, name, body) for rtype, named in self.resources.items() for name, body in named.items()]


def _merge_named(target: dict[str, dict[str, Body]], entries: list[dict[str, dict[str, Body]]], path: Path) -> None:
    for entry in entries:
        for rtype, named in entry.items():
            for name, body in named.items():
                bucket = target.setdefault(rtype, {})
                assert name not in bucket, f"{rtype}.{name} defined twice in {path}"
                bucket[name] = body


def load_module(path: Path) -> Module:
    module = Module(path=path)
    files = sorted(path.glob("*.tf"))
    assert files, f"no .tf files in {path}"
    for tf in files:
        with tf.open(encoding="utf-8") as handle:
            doc: dict[str, Any] = hcl_load(handle)
        _merge_named(module.resources, doc.get("resource", []), tf)
        _merge_named(module.data, doc.get("data", []), tf)
        for block in doc.get("locals", []):
            for key, value in block.items():
                assert key not in module.locals, f"local.{key} defined twice ({tf})"
                module.locals[key] = value
        for kind, target in (("variable", module.variables), ("output", module.outputs), ("module", module.modules)):
            for entry in doc.get(kind, []):
                for name, body in entry.items():
                    assert name not in target, f"{kind} {name} defined twice ({tf})"
                    target[name] = body
        module.terraform.extend(doc.get("terraform", []))
    return module


def blocks(body: Body, name: str) -> list[Body]:
    """The static nested blocks ``name { ... }`` of a body."""
    value = body.get(name, [])
    assert isinstance(value, list), f"{name} is not a block: {value!r}"
    return value


def block(body: Body, name: str) -> Body:
    """The one static nested block ``name { ... }`` of a body."""
    found = blocks(body, name)
    assert len(found) == 1, f"expected exactly one {name} block, found {len(found)}"
    return found[0]


def dynamic_blocks(body: Body, name: str) -> list[Body]:
    """The ``dynamic "name"`` blocks of a body: each has ``for_each`` and one ``content``."""
    return [entry[name] for entry in body.get("dynamic", []) if name in entry]


def dynamic_content(dynamic: Body) -> Body:
    content = dynamic["content"]
    assert isinstance(content, list) and len(content) == 1
    result: Body = content[0]
    return result


def expr(value: Any) -> str:
    """An attribute as expression text: ``"${x}"`` -> ``x``; other values as ``str``."""
    text = str(value)
    if text.startswith("${") and text.endswith("}") and _closing_brace(text, 1) == len(text) - 1:
        return text[2:-1]
    return text


def _closing_brace(text: str, start: int) -> int:
    """Index of the brace closing the one at ``start`` (strings may nest braces)."""
    depth = 0
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1


def references(value: Any) -> set[str]:
    """Names of resources, data sources, locals, variables and modules an attribute uses."""
    found: set[str] = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, str):
        found.update(_REFERENCE.findall(value))
    return found


def resolve_locals(module: Module, value: Any, depth: int = 0) -> set[str]:
    """``references`` with every ``local.x`` expanded, recursively."""
    assert depth < 20, "local reference cycle"
    result: set[str] = set()
    for ref in references(value):
        if ref.startswith("local."):
            result |= resolve_locals(module, module.local(ref.removeprefix("local.")), depth + 1)
        else:
            result.add(ref)
    return result
