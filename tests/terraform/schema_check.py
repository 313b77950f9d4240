"""Checks Terraform files against the providers' schemas, without the providers.

What `terraform validate` would catch about the *shape* of a configuration: unknown resource
and data source types, unknown arguments and blocks (recursively, `dynamic` blocks' `content`
included), missing required arguments and blocks, a block written as an argument
(``versioning = { ... }``) or an argument written as a block, a single block repeated, and
module calls passing unknown or missing variables. It does not evaluate expressions.

Run it by hand: ``python -m tests.terraform.schema_check [DIR ...]`` (default: terraform/).
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hcl2.api import load as hcl_load

from tests.terraform.hcl import TF_DIR
from tests.terraform.provider_schema import Block, ProviderSchema, load_all

Body = dict[str, Any]

# Meta-arguments Terraform itself handles (https://developer.hashicorp.com/terraform/language/meta-arguments).
RESOURCE_META_ARGUMENTS = frozenset({"count", "for_each", "depends_on", "provider"})
RESOURCE_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection"})
MODULE_META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "depends_on", "providers"})
PROVIDER_META_ARGUMENTS = frozenset({"alias"})
LIFECYCLE_ARGUMENTS = frozenset({"create_before_destroy", "prevent_destroy", "ignore_changes", "replace_triggered_by"})
CONDITION_ARGUMENTS = {"condition": True, "error_message": True}
DYNAMIC_ARGUMENTS = {"for_each": True, "iterator": False, "labels": False}


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.where}: {self.message}"


def _line(body: Any) -> int:
    return int(body.get("__start_line__", 0)) if isinstance(body, dict) else 0


def _is_block(value: Any) -> bool:
    """python-hcl2 (with_meta) marks blocks with their line numbers; object values have none."""
    return isinstance(value, list) and all(isinstance(v, dict) and "__start_line__" in v for v in value)


def _items(body: Body) -> Iterator[tuple[str, Any]]:
    return ((k, v) for k, v in body.items() if not k.startswith("__"))


class _Checker:
    def __init__(self, schemas: dict[str, ProviderSchema], path: Path, shown_as: str) -> None:
        self.schemas = schemas
        self.path = path
        self.shown_as = shown_as
        self.problems: list[Problem] = []

    def report(self, body: Any, where: str, message: str) -> None:
        self.problems.append(Problem(self.shown_as, _line(body), where, message))

    def body(self, body: Body, schema: Block, where: str, meta_arguments: frozenset[str] = frozenset()) -> None:
        """One block body: its arguments, nested blocks and dynamic blocks against `schema`."""
        present_blocks: dict[str, int] = {}
        for name, value in _items(body):
            if name == "dynamic" and isinstance(value, list):
                # dynamic "x" {...} lands as [{"x": {..., "__start_line__": n}}]
                for entry in value:
                    for block_name, dynamic in _items(entry):
                        self.dynamic(dynamic, block_name, schema, where)
                        present_blocks.setdefault(block_name, 0)
                continue
            if name in meta_arguments:
                continue
            if name in schema.attributes:
                if _is_block(value):
                    self.report(value[0], f"{where}.{name}", f"{name} is an argument: write `{name} = ...`")
                continue
            if name in schema.blocks:
                if not _is_block(value):
                    self.report(body, f"{where}.{name}", f"{name} is a block: write `{name} {{ ... }}`, not `=`")
                    continue
                nested = schema.blocks[name]
                present_blocks[name] = present_blocks.get(name, 0) + len(value)
                if nested.max_one and len(value) > 1:
                    self.report(value[1], f"{where}.{name}", f"at most one {name} block is allowed")
                for item in value:
                    self.body(item, nested.block, f"{where}.{name}")
                continue
            self.report(value[0] if _is_block(value) else body, f"{where}.{name}", self.unknown(name, schema))
        for name, required in schema.attributes.items():
            if required and name not in body:
                self.report(body, where, f"required argument {name} is missing")
        for name, nested in schema.blocks.items():
            if nested.required and name not in present_blocks:
                self.report(body, where, f"required block {name} is missing")

    def dynamic(self, dynamic: Body, name: str, parent: Block, where: str) -> None:
        here = f"{where}.dynamic.{name}"
        if name not in parent.blocks:
            self.report(dynamic, here, f"dynamic {name}: " + self.unknown(name, parent))
            return
        for argument, value in _items(dynamic):
            if argument == "content":
                continue
            if argument not in DYNAMIC_ARGUMENTS:
                self.report(dynamic, here, f"unknown argument {argument} of a dynamic block")
            elif _is_block(value):
                self.report(value[0], here, f"{argument} is an argument: write `{argument} = ...`")
        if "for_each" not in dynamic:
            self.report(dynamic, here, "a dynamic block needs for_each")
        content = dynamic.get("content")
        if not isinstance(content, list) or not _is_block(content) or len(content) != 1:
            self.report(dynamic, here, "a dynamic block needs exactly one content block")
            return
        self.body(content[0], parent.blocks[name].block, f"{here}.content")

    @staticmethod
    def unknown(name: str, schema: Block) -> str:
        close = difflib.get_close_matches(name, [*schema.attributes, *schema.blocks], n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        return f"unsupported argument or block {name}{hint}"

    def meta_blocks(self, body: Body, where: str) -> None:
        for name in RESOURCE_META_BLOCKS & set(body):
            value = body[name]
            if not _is_block(value):
                self.report(body, f"{where}.{name}", f"{name} is a block: write `{name} {{ ... }}`")
            elif name == "lifecycle":
                for lifecycle in value:
                    self.lifecycle(lifecycle, f"{where}.lifecycle")

    def lifecycle(self, body: Body, where: str) -> None:
        for name, value in _items(body):
            if name in ("precondition", "postcondition") and _is_block(value):
                for condition in value:
                    for argument, _ in _items(condition):
                        if argument not in CONDITION_ARGUMENTS:
                            self.report(condition, f"{where}.{name}", f"unknown argument {argument}")
                    for argument in CONDITION_ARGUMENTS:
                        if argument not in condition:
                            self.report(condition, f"{where}.{name}", f"{argument} is missing")
            elif name not in LIFECYCLE_ARGUMENTS or _is_block(value):
                self.report(body, f"{where}.{name}", f"unsupported lifecycle setting {name}")

    def provider_of(self, rtype: str, body: Body) -> str:
        explicit = body.get("provider")
        if isinstance(explicit, str):
            return explicit.removeprefix("${").removesuffix("}").split(".")[0]
        return rtype.split("_", 1)[0]

    def resource(self, kind: str, rtype: str, name: str, body: Body) -> None:
        where = f"{'data.' if kind == 'data' else ''}{rtype}.{name}"
        provider = self.provider_of(rtype, body)
        schema = self.schemas.get(provider)
        if schema is None:
            self.report(body, where, f"provider {provider} has no schema here (known: {', '.join(self.schemas)})")
            return
        types = schema.data_sources if kind == "data" else schema.resources
        if rtype not in types:
            self.report(body, where, f"provider {provider} {schema.provider_version} has no {kind} type {rtype}")
            return
        self.body(body, types[rtype], where, RESOURCE_META_ARGUMENTS | RESOURCE_META_BLOCKS)
        self.meta_blocks(body, where)

    def provider(self, name: str, body: Body) -> None:
        schema = self.schemas.get(name)
        if schema is None:
            self.report(body, f"provider.{name}", f"provider {name} has no schema here")
            return
        self.body(body, schema.provider, f"provider.{name}", PROVIDER_META_ARGUMENTS)

    def module_call(self, name: str, body: Body) -> None:
        where = f"module.{name}"
        source = body.get("source")
        if not isinstance(source, str) or not source.startswith(("./", "../")):
            return  # a registry or git module: its variables are not here
        variables = _variables(self.path.parent / source)
        for argument, value in _items(body):
            if argument not in MODULE_META_ARGUMENTS and argument not in variables:
                self.report(body, f"{where}.{argument}", f"module {source} has no variable {argument}")
            elif _is_block(value):
                self.report(value[0], f"{where}.{argument}", f"{argument} is an argument: write `{argument} = ...`")
        for variable, required in variables.items():
            if required and variable not in body:
                self.report(body, where, f"required variable {variable} of {source} is not set")


def _variables(module_dir: Path) -> dict[str, bool]:
    """A local module's variables: name -> required (no default)."""
    found: dict[str, bool] = {}
    for tf in sorted(module_dir.glob("*.tf")):
        for entry in _parse(tf).get("variable", []):
            for name, body in entry.items():
                found[name] = "default" not in body
    return found


def _parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = hcl_load(handle, with_meta=True)
    return document


def check_file(path: Path, schemas: dict[str, ProviderSchema], relative_to: Path | None = None) -> list[Problem]:
    checker = _Checker(schemas, path, str(path.relative_to(relative_to) if relative_to else path))
    document = _parse(path)
    for kind in ("resource", "data"):
        for entry in document.get(kind, []):
            for rtype, named in entry.items():
                for name, body in named.items():
                    checker.resource(kind, rtype, name, body)
    for entry in document.get("provider", []):
        for name, body in entry.items():
            checker.provider(name, body)
    for entry in document.get("module", []):
        for name, body in entry.items():
            checker.module_call(name, body)
    return checker.problems


def tf_files(root: Path) -> list[Path]:
    """Every .tf file under root (the module, modules/*, examples/*), never .terraform caches."""
    return sorted(p for p in root.rglob("*.tf") if ".terraform" not in p.parts)


def check_tree(root: Path, schemas: dict[str, ProviderSchema]) -> list[Problem]:
    problems: list[Problem] = []
    for path in tf_files(root):
        problems += check_file(path, schemas, root.parent)
    return sorted(problems)


def main(argv: list[str]) -> int:
    schemas = load_all(progress=True)
    roots = [Path(a) for a in argv] or [TF_DIR]
    problems = [p for root in roots for p in check_tree(root.resolve(), schemas)]
    for problem in problems:
        print(problem)
    files = sum(len(tf_files(root)) for root in roots)
    print(f"{len(problems)} problem(s) in {files} file(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
