"""What a first `terraform apply` on a fresh project needs, read from the configuration.

Each test names the failure it prevents (terraform/README.md, "First apply"). Variable
validations and the CMEK location checks are evaluated by Terraform itself (tests/terraform/
tfeval.py); the rest is the dependency graph and wiring read with python-hcl2.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sinks.archive import CONTENT_TYPE
from tests.terraform.hcl import TF_DIR, Module, block, dynamic_blocks, dynamic_content, expr, load_module, references
from tests.terraform.tfeval import TERRAFORM, evaluate

needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")

_NODE = re.compile(r"\b((?:data\.)?(?:google|time|archive)_[a-z0-9_]+\.[a-z0-9_]+|local\.[a-z0-9_]+)")
API_ROOTS = {"google_project_service.this", "google_project_service.resource_manager"}


def _graph(module: Module) -> dict[str, set[str]]:
    """node -> what it references or depends on, locals expanded."""

    def refs(value: Any) -> set[str]:
        found: set[str] = set()
        for ref in _NODE.findall(json.dumps(value)):
            if ref.startswith("local."):
                found |= refs(module.local(ref.removeprefix("local.")))
            else:
                found.add(ref)
        return found

    graph = {f"{rtype}.{name}": refs(body) for rtype, name, body in module.all_resources()}
    for rtype, named in module.data.items():
        for name, body in named.items():
            graph[f"data.{rtype}.{name}"] = refs(body)
    return graph


def _reaches(graph: dict[str, set[str]], start: str, targets: set[str]) -> bool:
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        for nxt in graph.get(node, set()):
            if nxt in targets:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def _depends_on(body: dict[str, Any]) -> set[str]:
    return {expr(d) for d in body.get("depends_on", [])}


# --- 5. APIs first ---------------------------------------------------------------------


def test_the_apis_a_fresh_project_lacks_are_enabled(root: Module) -> None:
    apis = set(root.local("required_apis"))
    assert "serviceusage.googleapis.com" in apis
    manager = root.resource("google_project_service", "resource_manager")
    assert manager["service"] == "cloudresourcemanager.googleapis.com"
    assert expr(manager["count"]) == "var.enable_apis ? 1 : 0"
    assert manager["disable_on_destroy"] is False
    # The project number is read only once Cloud Resource Manager is on, and waits for that alone.
    assert _depends_on(root.data["google_project"]["this"]) == {"google_project_service.resource_manager"}


def test_every_google_resource_waits_for_its_api(root: Module) -> None:
    graph = _graph(root)
    late = [
        node
        for node in graph
        if node.removeprefix("data.").startswith("google_")
        and node not in API_ROOTS
        and not _reaches(graph, node, API_ROOTS)
    ]
    assert not late, f"created before their API is enabled: {late}"


def test_the_graph_check_sees_a_missing_dependency(root: Module) -> None:
    orphan = {"project": "${var.project_id}", "account_id": "x"}
    graph = _graph(root) | {"google_service_account.orphan": set(_NODE.findall(json.dumps(orphan)))}
    assert not _reaches(graph, "google_service_account.orphan", API_ROOTS)


def test_service_accounts_depend_on_the_iam_api_directly(root: Module) -> None:
    for name, body in root.resources_of("google_service_account").items():
        assert "google_project_service.this" in _depends_on(body), name


# --- 4. The Pub/Sub service agent exists before it is granted anything -------------------


def test_pubsub_service_agent_is_created_before_its_grants(root: Module) -> None:
    identity = root.resource("google_project_service_identity", "pubsub")
    assert expr(identity["provider"]) == "google-beta"
    assert identity["service"] == "pubsub.googleapis.com"
    assert "google_project_service.this" in _depends_on(identity)
    grants = [
        (f"{rtype}.{name}", body)
        for rtype, name, body in root.all_resources()
        if "_iam_" in rtype and "local.pubsub_service_agent" in json.dumps(body)
    ]
    assert {
        "google_pubsub_topic_iam_member.pubsub_agent_dead_letter",
        "google_pubsub_subscription_iam_member.pubsub_agent_source",
        "google_service_account_iam_member.pubsub_agent_token_creator",
    } <= {g for g, _ in grants}
    for grant, body in grants:
        assert "google_project_service_identity.pubsub" in _depends_on(body), grant


# --- 3. The builds run as an account that holds what a build needs -----------------------


def test_every_function_builds_as_the_granted_account_into_our_repository(root: Module) -> None:
    functions = root.resources_of("google_cloudfunctions2_function")
    assert {"ingest", "drain"} <= set(functions)
    for name, body in functions.items():
        build = block(body, "build_config")
        assert expr(build["service_account"]) == "local.build_service_account", name
        assert expr(build["docker_repository"]) == "google_artifact_registry_repository.functions.id", name
        assert "time_sleep.build_iam_propagation" in _depends_on(body), name


def test_builds_wait_for_every_build_grant_to_propagate(root: Module) -> None:
    wait = root.resource("time_sleep", "build_iam_propagation")
    grants = {
        f"{rtype}.{name}"
        for rtype, name, body in root.all_resources()
        if "_iam_" in rtype and expr(body.get("member")) == "local.build_member"
    }
    assert grants and _depends_on(wait) == grants
    assert wait["create_duration"] == "60s"
    repository = root.resource("google_artifact_registry_repository", "functions")
    assert repository["format"] == "DOCKER"
    assert expr(repository["location"]) == "var.region"


# --- 6. Nothing is exported before it can be delivered -----------------------------------


@pytest.mark.parametrize("sink", ["project", "folder", "organization"])
def test_sinks_wait_for_both_subscriptions(root: Module, sink: str) -> None:
    body = root.resource(f"google_logging_{sink}_sink", "this")
    assert {"google_pubsub_subscription.ingest", "google_pubsub_subscription.drain"} <= _depends_on(body)


# --- 1. External tables over the archive are created over a seeded layout ----------------


def test_each_external_table_has_a_seed_object_in_its_layout(root: Module) -> None:
    seed = root.resource("google_storage_bucket_object", "archive_seed")
    table = root.resource("google_bigquery_table", "archive")
    assert expr(seed["for_each"]) == expr(table["for_each"]) == "toset(var.archive_external_table_log_ids)"
    assert "google_storage_bucket_object.archive_seed" in _depends_on(table)
    assert expr(seed["bucket"]) == "google_storage_bucket.archive.name"
    # The seed sits where the table's hive layout expects files: {prefix}/{log_id}/dt=.../hour=.../
    hive = block(block(table, "external_data_configuration"), "hive_partitioning_options")
    prefix = hive["source_uri_prefix"].removeprefix("gs://${google_storage_bucket.archive.name}/")
    layout = (
        re.escape(prefix).replace(r"\{dt:DATE\}", r"dt=\d{4}-\d{2}-\d{2}").replace(r"\{hour:INTEGER\}", r"hour=\d{2}")
    )
    assert re.fullmatch(layout + r"/[^/]+\.ndjson\.gz", seed["name"]), seed["name"]
    # Written like the archiver writes real objects, so BigQuery reads it the same way.
    assert (seed["content_type"], seed["content_encoding"]) == (CONTENT_TYPE, "gzip")


def test_the_seed_file_is_an_empty_gzip_stream() -> None:
    data = (TF_DIR / "seed" / "empty.ndjson.gz").read_bytes()
    assert data[:2] == b"\x1f\x8b" and gzip.decompress(data) == b""


# --- 2. CMEK: one key per service, each in a location its service accepts ----------------


def test_each_service_uses_its_own_key(root: Module) -> None:
    assert "kms_key_name" not in root.variables
    for topic in ("logs", "ingest_dead_letter", "drain_dead_letter"):
        assert expr(root.resource("google_pubsub_topic", topic)["kms_key_name"]) == "var.pubsub_kms_key_name"
    dataset = root.resource("google_bigquery_dataset", "logs")
    (default,) = dynamic_blocks(dataset, "default_encryption_configuration")
    assert references(default["for_each"]) == {"var.bigquery_kms_key_name"}
    for table in ("http_requests", "errors"):
        (config,) = dynamic_blocks(root.resource("google_bigquery_table", table), "encryption_configuration")
        assert references(config["for_each"]) == {"var.bigquery_kms_key_name"}
    (encryption,) = dynamic_blocks(root.resource("google_storage_bucket", "archive"), "encryption")
    assert references(encryption["for_each"]) == {"var.storage_kms_key_name"}
    assert expr(dynamic_content(encryption)["default_kms_key_name"]) == "encryption.value"


@pytest.mark.parametrize(
    ("resource", "problem"),
    [
        (("google_bigquery_dataset", "logs"), "bigquery_kms_problem"),
        (("google_storage_bucket", "archive"), "storage_kms_problem"),
    ],
)
def test_a_key_in_the_wrong_location_fails_the_plan(root: Module, resource: tuple[str, str], problem: str) -> None:
    preconditions = block(root.resource(*resource), "lifecycle")["precondition"]
    assert {"condition": f'${{local.{problem} == ""}}', "error_message": f"${{local.{problem}}}"} in [
        {k: v for k, v in p.items() if not k.startswith("__")} for p in preconditions
    ]


KEY = "projects/sec-proj/locations/{}/keyRings/logexport/cryptoKeys/{}"


@needs_terraform
@pytest.mark.parametrize(
    ("variables", "bigquery_problem", "storage_problem"),
    [
        ({}, "", ""),
        # The defaults: dataset in EU, buckets in the region (EUROPE-WEST1).
        (
            {
                "bigquery_kms_key_name": KEY.format("europe", "bq"),
                "storage_kms_key_name": KEY.format("europe-west1", "gcs"),
            },
            "",
            "",
        ),
        ({"bigquery_kms_key_name": KEY.format("global", "bq")}, "", ""),
        (
            # One key for both, the mistake the single kms_key_name invited.
            {
                "bigquery_kms_key_name": KEY.format("europe-west1", "k"),
                "storage_kms_key_name": KEY.format("europe-west1", "k"),
            },
            'bigquery_kms_key_name is in location "europe-west1", but the dataset is in "EU": '
            "BigQuery needs a key in europe or global.",
            "",
        ),
        (
            {"storage_kms_key_name": KEY.format("europe", "gcs")},
            "",
            'storage_kms_key_name is in location "europe", but the archive bucket is in "EUROPE-WEST1": '
            "Cloud Storage needs a key in europe-west1.",
        ),
        ({"bigquery_location": "US", "bigquery_kms_key_name": KEY.format("us", "bq")}, "", ""),
        (
            {"bigquery_location": "asia-northeast1", "bigquery_kms_key_name": KEY.format("asia-northeast1", "bq")},
            "",
            "",
        ),
        ({"storage_location": "EU", "storage_kms_key_name": KEY.format("europe", "gcs")}, "", ""),
        ({"storage_location": "EUR4", "storage_kms_key_name": KEY.format("europe", "gcs")}, "", ""),
        ({"storage_location": "EUR4", "storage_kms_key_name": KEY.format("eur4", "gcs")}, "", ""),
        (
            {"storage_location": "US", "storage_kms_key_name": KEY.format("us-central1", "gcs")},
            "",
            'storage_kms_key_name is in location "us-central1", but the archive bucket is in "US": '
            "Cloud Storage needs a key in us.",
        ),
        ({"region": "asia-east1", "storage_kms_key_name": KEY.format("asia-east1", "gcs")}, "", ""),
    ],
)
def test_cmek_location_checks(
    tmp_path: Path, variables: dict[str, str], bigquery_problem: str, storage_problem: str
) -> None:
    result = evaluate(tmp_path, "[local.bigquery_kms_problem, local.storage_kms_problem]", variables)
    assert result.returncode == 0, result.errors
    bigquery, storage = result.value
    assert bigquery.startswith(bigquery_problem) and bool(bigquery) == bool(bigquery_problem), bigquery
    assert storage.startswith(storage_problem) and bool(storage) == bool(storage_problem), storage


@needs_terraform
@pytest.mark.parametrize("variable", ["pubsub_kms_key_name", "bigquery_kms_key_name", "storage_kms_key_name"])
@pytest.mark.parametrize(
    "value",
    [
        "projects/p/locations/europe/keyRings/r",  # a key ring
        "projects/p/locations/europe/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1",  # a version
        "europe/r/k",
    ],
)
def test_a_malformed_key_name_is_rejected_with_the_expected_form(tmp_path: Path, variable: str, value: str) -> None:
    result = evaluate(tmp_path, "local.bigquery_kms_problem", {variable: value})
    assert result.returncode != 0
    assert f"{variable} must be a full key name: projects/P/locations/L/keyRings/R/cryptoKeys/K" in result.errors


# --- variables.tf: the defaults and the example must pass every validation ----------------


@needs_terraform
def test_the_defaults_pass_every_validation(tmp_path: Path) -> None:
    """Before this test, three RE2-invalid patterns ({1,1024}: RE2 allows at most 1000
    repetitions) rejected even the default dataset and table names: no plan could start."""
    result = evaluate(tmp_path, "var.dataset_id", {})
    assert result.returncode == 0, result.errors
    assert result.value == "logs"


def _example_values() -> dict[str, Any]:
    example = TF_DIR / "examples" / "basic"
    module = load_module(example)
    (call,) = module.modules.values()
    tfvars = dict(re.findall(r'^(\w+)\s*=\s*"([^"]*)"', (example / "terraform.tfvars.example").read_text(), re.M))
    values: dict[str, Any] = {}
    for name, value in call.items():
        if name == "source":
            continue
        reference = re.fullmatch(r"\$\{var\.(\w+)\}", str(value))
        values[name] = (
            tfvars.get(reference.group(1), module.variables[reference.group(1)].get("default")) if reference else value
        )
    return values


@needs_terraform
def test_the_example_passes_every_validation_and_location_check(tmp_path: Path) -> None:
    values = _example_values()
    assert values["project_id"] == "my-blog-project" and values["require_partition_filter"] is True
    result = evaluate(tmp_path, "[local.bigquery_kms_problem, local.storage_kms_problem]", values)
    assert result.returncode == 0, result.errors
    assert result.value == ["", ""]


@needs_terraform
def test_a_bad_value_is_reported_by_its_validation(tmp_path: Path) -> None:
    result = evaluate(tmp_path, "var.dataset_id", {"dataset_id": "my-logs"})
    assert result.returncode != 0
    assert "dataset_id must be 1-1024 letters, digits and underscores." in result.errors
