"""Every .tf file against the real provider schemas (read offline from the CDKTF packages),
the check itself made to fail, and the provider pins matching the schemas read."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.terraform.hcl import TF_DIR, load_module
from tests.terraform.provider_schema import ASSEMBLIES, Block, ProviderSchema, distill, load_all
from tests.terraform.schema_check import check_file, check_tree, tf_files

MODULE_DIRS = [TF_DIR, *sorted(p for p in (TF_DIR / "modules").iterdir() if p.is_dir())]
MODULE_DIRS += sorted(p for p in (TF_DIR / "examples").iterdir() if p.is_dir())


@pytest.fixture(scope="session")
def schemas() -> dict[str, ProviderSchema]:
    # The first run on a clean clone downloads ~100 MB of wheels (about 10-20 s), later runs
    # read the distilled JSON under .tools/provider-schemas/.
    return load_all(progress=True)


def test_every_tf_file_matches_the_provider_schemas(schemas: dict[str, ProviderSchema]) -> None:
    files = tf_files(TF_DIR)
    assert {p.parent for p in files} == set(MODULE_DIRS), "root, modules/* and examples/* are all checked"
    problems = check_tree(TF_DIR, schemas)
    assert not problems, "\n".join(map(str, problems))


# --- the check must be able to fail --------------------------------------------------------


def _edit(path: str, old: str, new: str) -> tuple[str, str, str]:
    return path, old, new


MUTATIONS = {
    "misspelled argument": (
        _edit("storage.tf", "uniform_bucket_level_access = true", "uniform_bucket_level_acess = true"),
        "google_storage_bucket.archive.uniform_bucket_level_acess: unsupported argument or block "
        "uniform_bucket_level_acess (did you mean uniform_bucket_level_access?)",
    ),
    "missing required block in a dynamic block's content": (
        _edit("storage.tf", 'action {\n        type = "Delete"\n      }', ""),
        "google_storage_bucket.archive.dynamic.lifecycle_rule.content: required block action is missing",
    ),
    "missing required block": (
        _edit("storage.tf", '    action {\n      type = "Delete"\n    }\n', ""),
        "google_storage_bucket.source.lifecycle_rule: required block action is missing",
    ),
    "misspelled nested block": (
        _edit("functions.tf", "storage_source {", "storage_sauce {"),
        "google_cloudfunctions2_function.ingest.build_config.source.storage_sauce: unsupported argument or block",
    ),
    "missing required argument": (
        _edit("pubsub.tf", '  service = "pubsub.googleapis.com"\n', ""),
        "google_project_service_identity.pubsub: required argument service is missing",
    ),
    "block written as an argument": (
        _edit(
            "storage.tf",
            "versioning {\n    enabled = var.archive_versioning",
            "versioning = {\n    enabled = var.archive_versioning",
        ),
        "google_storage_bucket.archive.versioning: versioning is a block",
    ),
    "argument written as a block": (
        _edit(
            "pubsub.tf",
            "labels                     = local.labels\n  message_retention_duration = var.topic",
            "labels {\n  }\n  message_retention_duration = var.topic",
        ),
        "google_pubsub_topic.logs.labels: labels is an argument",
    ),
    "single block repeated": (
        _edit("functions.tf", "  service_config {", "  service_config {\n  }\n\n  service_config {"),
        "google_cloudfunctions2_function.ingest.service_config: at most one service_config block is allowed",
    ),
    "unknown resource type": (
        _edit("storage.tf", 'resource "google_storage_bucket" "source"', 'resource "google_storage_buckets" "source"'),
        "provider google 6.50.0 has no resource type google_storage_buckets",
    ),
    "beta-only resource without the beta provider": (
        _edit("pubsub.tf", "  provider = google-beta\n", ""),
        "provider google 6.50.0 has no resource type google_project_service_identity",
    ),
    "unknown dynamic block": (
        _edit("bigquery.tf", 'dynamic "default_encryption_configuration"', 'dynamic "default_encryption"'),
        "dynamic default_encryption: unsupported argument or block default_encryption",
    ),
    "unknown module variable": (
        _edit("examples/basic/main.tf", "bigquery_location         =", "bigquery_region           ="),
        "module.logexport.bigquery_region: module ../.. has no variable bigquery_region",
    ),
    "missing required module variable": (
        _edit("examples/basic/main.tf", "  project_id     = var.project_id\n", ""),
        "required variable project_id of ../.. is not set",
    ),
    "unknown lifecycle setting": (
        _edit(
            "functions.tf",
            "  lifecycle {\n    precondition {",
            "  lifecycle {\n    prevent_destroi = true\n    precondition {",
        ),
        "lifecycle.prevent_destroi: unsupported lifecycle setting prevent_destroi",
    ),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_the_check_fails_on(schemas: dict[str, ProviderSchema], tmp_path: Path, mutation: str) -> None:
    (path, old, new), expected = MUTATIONS[mutation]
    copy = tmp_path / "terraform"
    shutil.copytree(TF_DIR, copy, ignore=shutil.ignore_patterns(".terraform", ".build"))
    target = copy / path
    text = target.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}: update this test"
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    # Only the edited file: the others are checked clean by the test above.
    problems = [str(p) for p in check_file(target, schemas, tmp_path)]
    assert any(expected in p for p in problems), f"expected {expected!r} in:\n" + "\n".join(problems)


# --- reading the assemblies ----------------------------------------------------------------


def _prop(name: str, anchor: str, type_ref: dict[str, object], optional: bool = True) -> dict[str, object]:
    link = f"{{@link https://registry.terraform.io/providers/hashicorp/demo/1.2.3/docs/resources/thing#{anchor} Thing#{anchor}}}"
    prop: dict[str, object] = {
        "name": name,
        "type": type_ref,
        "docs": {"remarks": f"Docs at Terraform Registry: {link}"},
    }
    if optional:
        prop["optional"] = True
    return prop


def _represents(kind: str, name: str) -> dict[str, str]:
    path = f"/{kind}/{name.removeprefix('demo_')}" if kind else ""
    return {
        "summary": f"Represents a {{@link https://registry.terraform.io/providers/hashicorp/demo/1.2.3/docs{path} {name}}}."
    }


def test_distill_reads_blocks_requiredness_and_registry_names() -> None:
    """A miniature assembly in the layout of the real ones (cdktf 0.20 / jsii)."""
    ns = "@cdktf/provider-demo"
    types = {
        f"{ns}.thing.Thing": {
            "kind": "class",
            "docs": _represents("resources", "demo_thing"),
            "initializer": {"parameters": [{"name": "config", "type": {"fqn": f"{ns}.thing.ThingConfig"}}]},
        },
        f"{ns}.thing.ThingConfig": {
            "kind": "interface",
            "datatype": True,
            "properties": [
                _prop("name", "name", {"primitive": "string"}, optional=False),
                _prop("ipV6Range", "ipv6_range", {"primitive": "string"}),  # not a camelCase conversion
                _prop(
                    "rule",
                    "rule",
                    {
                        "union": {
                            "types": [
                                {"fqn": "cdktf.IResolvable"},
                                {"collection": {"kind": "array", "elementtype": {"fqn": f"{ns}.thing.ThingRule"}}},
                            ]
                        }
                    },
                ),
                _prop("settings", "settings", {"fqn": f"{ns}.thing.ThingSettings"}, optional=False),
                _prop("tags", "tags", {"collection": {"kind": "map", "elementtype": {"primitive": "string"}}}),
            ],
        },
        f"{ns}.thing.ThingRule": {
            "kind": "interface",
            "datatype": True,
            "properties": [_prop("action", "action", {"primitive": "string"}, optional=False)],
        },
        f"{ns}.thing.ThingSettings": {"kind": "interface", "datatype": True, "properties": []},
        f"{ns}.provider.DemoProvider": {
            "kind": "class",
            "docs": _represents("", "demo"),
            "initializer": {"parameters": [{"name": "config", "type": {"fqn": f"{ns}.provider.DemoProviderConfig"}}]},
        },
        f"{ns}.provider.DemoProviderConfig": {"kind": "interface", "datatype": True, "properties": []},
    }
    schema = distill({"types": types}, "demo")
    assert schema.provider_version == "1.2.3"
    assert schema.provider == Block()
    thing = schema.resources["demo_thing"]
    assert thing.attributes == {"name": True, "ipv6_range": False, "tags": False}
    assert {name: (b.required, b.max_one) for name, b in thing.blocks.items()} == {
        "rule": (False, False),
        "settings": (True, True),
    }
    assert thing.blocks["rule"].block.attributes == {"action": True}


def test_the_real_assemblies_hold_what_the_module_uses(schemas: dict[str, ProviderSchema]) -> None:
    google = schemas["google"]
    function = google.resources["google_cloudfunctions2_function"]
    build = function.blocks["build_config"]
    assert build.max_one and not build.required
    assert {"service_account", "docker_repository", "entry_point"} <= set(build.block.attributes)
    assert function.attributes["name"] is True
    assert google.resources["google_storage_bucket"].blocks["lifecycle_rule"].block.blocks["action"].required
    assert "google_project_service_identity" in schemas["google-beta"].resources
    assert "archive_file" in schemas["archive"].data_sources
    assert "time_sleep" in schemas["time"].resources


# --- provider pins -------------------------------------------------------------------------


def _admits(constraint: str, version: str) -> bool:
    """Whether a `~> X.Y[.Z]` constraint admits version (the only form the module uses)."""
    match = re.fullmatch(r"~>\s*(\d+(?:\.\d+){1,2})", constraint.strip())
    assert match, f"{constraint!r} is not a pessimistic (~>) constraint"
    floor = [int(p) for p in match.group(1).split(".")]
    wanted = [int(p) for p in version.split(".")]
    fixed = floor[:-1]  # ~> 6.50.0 fixes 6.50; ~> 2.7 fixes 2
    return wanted[: len(fixed)] == fixed and wanted >= floor + [0] * (3 - len(floor))


def test_admits_reads_pessimistic_constraints() -> None:
    assert _admits("~> 6.50.0", "6.50.0") and _admits("~> 6.50.0", "6.50.3")
    assert not _admits("~> 6.50.0", "6.51.0") and not _admits("~> 6.50.0", "7.0.0")
    assert _admits("~> 2.7", "2.9.1") and not _admits("~> 2.7", "3.0.0") and not _admits("~> 2.7", "2.6.0")


@pytest.mark.parametrize("module_dir", [TF_DIR, TF_DIR / "examples" / "basic"], ids=["root", "examples/basic"])
def test_providers_are_pinned_to_the_checked_schemas(schemas: dict[str, ProviderSchema], module_dir: Path) -> None:
    (settings,) = [t for t in load_module(module_dir).terraform if "required_providers" in t]
    required = settings["required_providers"][0]
    assert set(required) == set(ASSEMBLIES), "every provider the module uses, and only those"
    for name, spec in required.items():
        assert spec["source"] == f"hashicorp/{name}"
        version = schemas[name].provider_version
        assert _admits(spec["version"], version), f"{name} {spec['version']} does not admit {version}"
        # Patch releases only: a minor release may add arguments the check has not seen.
        assert spec["version"].count(".") == 2, f"{name}: pin to the minor version, e.g. ~> {version}"


def test_readme_names_the_pinned_versions(schemas: dict[str, ProviderSchema]) -> None:
    readme = (TF_DIR / "README.md").read_text(encoding="utf-8")
    for name, assembly in ASSEMBLIES.items():
        assert f"`{assembly.package}` {assembly.version}" in readme, f"README: {assembly.package}"
        assert f"{name} {schemas[name].provider_version}" in readme, f"README: {name} version"
