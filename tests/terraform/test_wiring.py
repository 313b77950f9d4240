"""The wiring of the root module: sink -> topic -> subscriptions -> functions -> BigQuery/GCS."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from functions.views import HTTP_REQUESTS_DEDUP
from tests.terraform.hcl import (
    TF_DIR,
    Module,
    block,
    blocks,
    dynamic_blocks,
    dynamic_content,
    expr,
    references,
)

SINK_TYPES = ("google_logging_project_sink", "google_logging_folder_sink", "google_logging_organization_sink")


# --- Log Router sink ------------------------------------------------------------------


@pytest.mark.parametrize("sink_type", SINK_TYPES)
def test_every_sink_writes_to_the_log_topic_with_the_effective_filter(root: Module, sink_type: str) -> None:
    sink = root.resource(sink_type, "this")
    assert expr(sink["destination"]) == "local.sink_destination"
    assert root.local("sink_destination") == "pubsub.googleapis.com/${google_pubsub_topic.logs.id}"
    assert expr(sink["filter"]) == "local.effective_log_filter"
    assert expr(root.local("effective_log_filter")) == "module.log_filter.filter"
    # Exactly one sink exists, chosen by sink_scope.
    scope = {"google_logging_project_sink": "project", "google_logging_folder_sink": "folder"}.get(
        sink_type, "organization"
    )
    assert expr(sink["count"]) == f'var.sink_scope == "{scope}" ? 1 : 0'


def test_project_sink_has_a_unique_writer_identity(root: Module) -> None:
    assert root.resource("google_logging_project_sink", "this")["unique_writer_identity"] is True


@pytest.mark.parametrize("sink_type", SINK_TYPES[1:])
def test_aggregated_sinks_include_children_by_variable(root: Module, sink_type: str) -> None:
    sink = root.resource(sink_type, "this")
    assert expr(sink["include_children"]) == "var.sink_include_children"
    assert root.variables["sink_include_children"]["default"] is True


@pytest.mark.parametrize("sink_type", SINK_TYPES)
def test_sink_exclusions_come_from_the_variable(root: Module, sink_type: str) -> None:
    (exclusions,) = dynamic_blocks(root.resource(sink_type, "this"), "exclusions")
    assert expr(exclusions["for_each"]) == "var.sink_exclusions"
    content = dynamic_content(exclusions)
    assert {k: expr(v) for k, v in content.items()} == {
        "name": "exclusions.value.name",
        "description": "exclusions.value.description",
        "filter": "exclusions.value.filter",
        "disabled": "exclusions.value.disabled",
    }


def test_log_filter_module_gets_the_function_names(root: Module) -> None:
    call = root.modules["log_filter"]
    assert call["source"] == "./modules/log-filter"
    assert expr(call["excluded_function_names"]) == "local.function_names"
    assert expr(call["log_filter"]) == "var.log_filter"
    assert root.local("function_names") == [
        "${local.ingest_function_name}",
        "${local.drain_function_name}",
        "${local.forward_function_name}",
    ]
    # The excluded names are the names the functions are really deployed under.
    assert expr(root.resource("google_cloudfunctions2_function", "ingest")["name"]) == "local.ingest_function_name"
    assert expr(root.resource("google_cloudfunctions2_function", "drain")["name"]) == "local.drain_function_name"


def test_self_exclusion_is_appended_outside_the_user_variable(log_filter_module: Module) -> None:
    effective = log_filter_module.local("effective_filter")
    assert effective == "(${local.base_filter}) AND NOT (${local.self_exclusion})"
    base = expr(log_filter_module.local("base_filter"))
    assert base == "coalesce(var.log_filter, local.default_filter)"
    exclusion = log_filter_module.local("self_exclusion")
    text = json.dumps(exclusion)
    assert 'resource.type=\\"cloud_run_revision\\"' in text
    assert 'resource.type=\\"cloud_function\\"' in text
    assert "labels.${var.self_log_label}:*" in text
    assert log_filter_module.variables["self_log_label"]["default"] == "logexport_component"


def test_writer_identity_may_only_publish_to_the_log_topic(root: Module) -> None:
    grant = root.resource("google_pubsub_topic_iam_member", "sink_writer")
    assert grant["role"] == "roles/pubsub.publisher"
    assert expr(grant["topic"]) == "google_pubsub_topic.logs.name"
    assert expr(grant["member"]) == "local.sink_writer_identity"
    identity = root.local("sink_writer_identity")
    for sink_type in SINK_TYPES:
        assert f"{sink_type}.this[*].writer_identity" in identity
    # The writer identity appears in no other grant.
    users = [
        f"{rtype}.{name}"
        for rtype, name, body in root.all_resources()
        if "iam" in rtype and "local.sink_writer_identity" in references(body)
    ]
    assert users == ["google_pubsub_topic_iam_member.sink_writer"]


# --- Pub/Sub --------------------------------------------------------------------------


def test_topic_retains_messages(root: Module) -> None:
    topic = root.resource("google_pubsub_topic", "logs")
    assert expr(topic["message_retention_duration"]) == "var.topic_message_retention_duration"
    assert root.variables["topic_message_retention_duration"]["default"] == "86400s"


def test_push_subscription_targets_ingest_with_oidc(root: Module) -> None:
    sub = root.resource("google_pubsub_subscription", "ingest")
    assert expr(sub["topic"]) == "google_pubsub_topic.logs.id"
    push = block(sub, "push_config")
    assert expr(push["push_endpoint"]) == 'google_cloudfunctions2_function.ingest["this"].service_config[0].uri'
    oidc = block(push, "oidc_token")
    assert expr(oidc["service_account_email"]) == 'google_service_account.push["this"].email'
    assert expr(oidc["audience"]) == 'google_cloudfunctions2_function.ingest["this"].service_config[0].uri'
    assert expr(sub["ack_deadline_seconds"]) == "var.ack_deadline_seconds"
    retry = block(sub, "retry_policy")
    assert expr(retry["minimum_backoff"]) == "var.retry_minimum_backoff"
    assert expr(retry["maximum_backoff"]) == "var.retry_maximum_backoff"
    assert block(sub, "expiration_policy")["ttl"] == ""


def test_drain_subscription_is_pull(root: Module) -> None:
    sub = root.resource("google_pubsub_subscription", "drain")
    assert expr(sub["topic"]) == "google_pubsub_topic.logs.id"
    assert "push_config" not in sub
    assert block(sub, "expiration_policy")["ttl"] == ""


@pytest.mark.parametrize("consumer", ["ingest", "drain"])
def test_each_subscription_has_its_own_dead_letter_topic(root: Module, consumer: str) -> None:
    sub = root.resource("google_pubsub_subscription", consumer)
    policy = block(sub, "dead_letter_policy")
    assert expr(policy["dead_letter_topic"]) == f'google_pubsub_topic.{consumer}_dead_letter["this"].id'
    assert expr(policy["max_delivery_attempts"]) == "var.max_delivery_attempts"
    assert root.resource("google_pubsub_topic", f"{consumer}_dead_letter")
    # A pull subscription on the dead-letter topic retains the dead letters.
    dead = root.resource("google_pubsub_subscription", "dead_letter")
    assert expr(dead["for_each"]).replace(" ", "").replace("\n", "") != ""
    assert f"google_pubsub_topic.{consumer}_dead_letter" in references(dead["for_each"])
    assert "push_config" not in dead
    assert dead["retain_acked_messages"] is True


def test_pubsub_service_agent_can_forward_dead_letters(root: Module) -> None:
    agent = root.local("pubsub_service_agent")
    assert agent == ("serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com")
    publish = root.resource("google_pubsub_topic_iam_member", "pubsub_agent_dead_letter")
    assert publish["role"] == "roles/pubsub.publisher"
    assert expr(publish["member"]) == "local.pubsub_service_agent"
    assert references(publish["for_each"]) == {
        "google_pubsub_topic.ingest_dead_letter",
        "google_pubsub_topic.drain_dead_letter",
    }
    subscribe = root.resource("google_pubsub_subscription_iam_member", "pubsub_agent_source")
    assert subscribe["role"] == "roles/pubsub.subscriber"
    assert expr(subscribe["member"]) == "local.pubsub_service_agent"
    assert references(subscribe["for_each"]) == {
        "google_pubsub_subscription.ingest",
        "google_pubsub_subscription.drain",
    }


# --- BigQuery -------------------------------------------------------------------------


def _schema(name: str) -> list[dict[str, Any]]:
    path = TF_DIR / "schemas" / f"{name}.json"
    assert path.is_file(), f"{path} is missing: run `make schemas`"
    columns = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(columns, list)
    return columns


def test_requests_table_reads_the_generated_schema(root: Module) -> None:
    table = root.resource("google_bigquery_table", "http_requests")
    assert expr(table["schema"]) == 'file("${path.module}/schemas/http_requests.json")'
    columns = {c["name"]: c for c in _schema("http_requests")}
    assert columns["timestamp"]["type"] == "TIMESTAMP"


def test_requests_table_is_partitioned_and_clustered(root: Module) -> None:
    table = root.resource("google_bigquery_table", "http_requests")
    partitioning = block(table, "time_partitioning")
    assert partitioning["type"] == "DAY"
    assert partitioning["field"] == "timestamp"
    assert "var.partition_expiration_days" in partitioning["expiration_ms"]
    assert expr(table["clustering"]) == "var.clustering_fields"
    assert expr(table["require_partition_filter"]) == "var.require_partition_filter"
    default_clustering = root.variables["clustering_fields"]["default"]
    assert default_clustering == ["host", "status"]
    columns = {c["name"] for c in _schema("http_requests")}
    assert set(default_clustering) <= columns


def test_errors_table_is_partitioned_on_error_timestamp(root: Module) -> None:
    table = root.resource("google_bigquery_table", "errors")
    assert expr(table["schema"]) == 'file("${path.module}/schemas/errors.json")'
    partitioning = block(table, "time_partitioning")
    assert (partitioning["type"], partitioning["field"]) == ("DAY", "error_timestamp")
    columns = {c["name"]: c for c in _schema("errors")}
    assert columns["error_timestamp"]["type"] == "TIMESTAMP"
    assert set(table["clustering"]) <= set(columns)


def test_dedup_view_is_the_generated_sql(root: Module) -> None:
    view = block(root.resource("google_bigquery_table", "http_requests_dedup"), "view")
    assert view["use_legacy_sql"] is False
    # python-hcl2 renders the call as text: templatefile("...", {"name": "value"}).
    call = re.fullmatch(
        r'templatefile\("\$\{path.module\}/sql/http_requests_dedup.sql", (\{.*\})\)', expr(view["query"])
    )
    assert call, view["query"]
    values = json.loads(call.group(1))
    assert set(values) == HTTP_REQUESTS_DEDUP.placeholders == {"requests_table"}
    assert values["requests_table"] == (
        "${var.project_id}.${google_bigquery_dataset.logs.dataset_id}.${google_bigquery_table.http_requests.table_id}"
    )
    # The file is functions/views.py's text (test_views.py checks it is fresh).
    assert (TF_DIR / "sql" / "http_requests_dedup.sql").read_text() == HTTP_REQUESTS_DEDUP.file_text


def test_archive_external_tables_use_hive_partitions(root: Module) -> None:
    table = root.resource("google_bigquery_table", "archive")
    assert expr(table["for_each"]) == "toset(var.archive_external_table_log_ids)"
    config = block(table, "external_data_configuration")
    assert config["source_format"] == "NEWLINE_DELIMITED_JSON"
    assert config["compression"] == "GZIP"
    hive = block(config, "hive_partitioning_options")
    assert hive["mode"] == "CUSTOM"
    assert hive["source_uri_prefix"].endswith("/${var.archive_prefix}/${each.value}/{dt:DATE}/{hour:INTEGER}")
    assert hive["source_uri_prefix"].startswith("gs://${google_storage_bucket.archive.name}/")


def test_dataset_has_location_and_optional_expiration(root: Module) -> None:
    dataset = root.resource("google_bigquery_dataset", "logs")
    assert expr(dataset["location"]) == "var.bigquery_location"
    assert "var.dataset_default_table_expiration_days" in dataset["default_table_expiration_ms"]
    assert root.variables["dataset_default_table_expiration_days"]["default"] is None


# --- Cloud Storage --------------------------------------------------------------------


def test_archive_bucket_is_private_and_tiered(root: Module) -> None:
    bucket = root.resource("google_storage_bucket", "archive")
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"
    rules = dynamic_blocks(bucket, "lifecycle_rule")
    by_variable: dict[str, Any] = {}
    for rule in rules:
        content = dynamic_content(rule)
        action = block(content, "action")
        variables = sorted(r for r in references(rule["for_each"]) if r.startswith("var."))
        by_variable[",".join(variables)] = (action["type"], action.get("storage_class"))
        if variables != ["var.archive_versioning"]:
            assert expr(block(content, "condition")["age"]) == "lifecycle_rule.value"
    assert by_variable["var.archive_nearline_age_days"] == ("SetStorageClass", "NEARLINE")
    assert by_variable["var.archive_coldline_age_days"] == ("SetStorageClass", "COLDLINE")
    assert by_variable["var.archive_delete_age_days"] == ("Delete", None)
    (retention,) = dynamic_blocks(bucket, "retention_policy")
    assert "var.archive_retention_days" in retention["for_each"]
    assert expr(block(bucket, "versioning")["enabled"]) == "var.archive_versioning"
    defaults = [root.variables[f"archive_{tier}_age_days"]["default"] for tier in ("nearline", "coldline", "delete")]
    assert defaults == sorted(defaults) and len(set(defaults)) == 3


def test_source_bucket_is_private(root: Module) -> None:
    bucket = root.resource("google_storage_bucket", "source")
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["public_access_prevention"] == "enforced"


# --- Functions ------------------------------------------------------------------------


def test_source_zip_holds_only_what_the_functions_need(root: Module) -> None:
    files = root.local("source_files")
    assert "{main.py,requirements.txt}" in files
    assert "{functions,sinks}/**" in files
    assert "__pycache__" in files
    archive = root.data["archive_file"]["source"]
    (source,) = dynamic_blocks(archive, "source")
    assert expr(source["for_each"]) == "toset(local.source_files)"
    obj = root.resource("google_storage_bucket_object", "source")
    assert "${data.archive_file.source.output_md5}" in obj["name"]
    assert expr(obj["bucket"]) == "google_storage_bucket.source.name"


@pytest.mark.parametrize(("name", "sa"), [("ingest", "ingest"), ("drain", "drain")])
def test_functions_run_from_the_zip_as_their_own_service_account(root: Module, name: str, sa: str) -> None:
    function = root.resource("google_cloudfunctions2_function", name)
    assert "event_trigger" not in function, "ingest is invoked by our push subscription, not Eventarc"
    build = block(function, "build_config")
    assert build["entry_point"] == name
    assert expr(build["runtime"]) == "var.runtime"
    storage = block(block(build, "source"), "storage_source")
    assert expr(storage["object"]) == "google_storage_bucket_object.source.name"
    service = block(function, "service_config")
    assert expr(service["service_account_email"]) == f'google_service_account.{sa}["this"].email'
    for knob, variable in (
        ("max_instance_count", "max_instances"),
        ("min_instance_count", "min_instances"),
        ("max_instance_request_concurrency", "concurrency"),
        ("available_memory", "memory"),
        ("timeout_seconds", "timeout_seconds"),
    ):
        assert expr(service[knob]) == f"var.{name}_{variable}"


def test_runtime_is_validated(root: Module) -> None:
    variable = root.variables["runtime"]
    assert variable["default"] == "python312"
    (validation,) = variable["validation"]
    assert re.search(r"python311.*python312", validation["condition"])


def test_function_environment_names(root: Module) -> None:
    ingest = block(root.resource("google_cloudfunctions2_function", "ingest"), "service_config")
    drain = block(root.resource("google_cloudfunctions2_function", "drain"), "service_config")
    assert expr(ingest["environment_variables"]) == "local.ingest_environment"
    assert "local.common_environment" in root.local("ingest_environment")
    unquoted = re.sub("[\"']", "", str(root.local("ingest_environment")))
    assert "INGEST_WRITE_ARCHIVE: ${var.ingest_write_archive ? true : false}" in unquoted
    assert "INGEST_BATCH_WAIT_MS: ${tostring(var.ingest_batch_wait_ms)}" in unquoted
    assert expr(drain["environment_variables"]) == "local.drain_environment"
    common = root.local("common_environment")
    assert common == {
        "GOOGLE_CLOUD_PROJECT": "${var.project_id}",
        "BIGQUERY_DATASET": "${google_bigquery_dataset.logs.dataset_id}",
        "BIGQUERY_TABLE": "${google_bigquery_table.http_requests.table_id}",
        "BIGQUERY_ERROR_TABLE": "${google_bigquery_table.errors.table_id}",
        "BIGQUERY_WRITE_METHOD": "${var.bigquery_write_method}",
        "ARCHIVE_BUCKET": "${google_storage_bucket.archive.name}",
        "ARCHIVE_PREFIX": "${var.archive_prefix}",
    }
    assert expr(root.local("drain_environment")) == (
        "merge(local.common_environment, local.runtime_environment, local.drain_only_environment)"
    )
    assert "local.runtime_environment" in root.local("ingest_environment")
    assert "INGEST_TIMEOUT_SECONDS: ${tostring(var.ingest_timeout_seconds)}" in unquoted
    assert root.local("runtime_environment") == {
        "WRITE_BUDGET_SECONDS": "${tostring(var.write_budget_seconds)}",
        "MAX_MESSAGE_BYTES": "${tostring(var.max_message_bytes)}",
        "ACK_DEADLINE_SECONDS": "${tostring(var.ack_deadline_seconds)}",
        "LOG_LEVEL": "${var.log_level}",
    }
    drain_only = root.local("drain_only_environment")
    assert set(drain_only) == {"DRAIN_SUBSCRIPTION", "DRAIN_BATCH_SIZE", "DRAIN_BUDGET_SECONDS", "DRAIN_WRITE_BIGQUERY",
                               "DRAIN_TIMEOUT_SECONDS"}  # fmt: skip
    assert expr(drain_only["DRAIN_TIMEOUT_SECONDS"]) == "tostring(var.drain_timeout_seconds)"
    assert expr(drain_only["DRAIN_SUBSCRIPTION"]) == "local.drain_subscription_path"
    assert root.local("drain_subscription_path") == (
        "projects/${var.project_id}/subscriptions/${local.drain_subscription_name}"
    )
    assert expr(root.resource("google_pubsub_subscription", "drain")["name"]) == "local.drain_subscription_name"
    assert expr(drain_only["DRAIN_WRITE_BIGQUERY"]) == 'local.drain_write_bigquery ? "true" : "false"'
    assert expr(root.local("drain_write_bigquery")) == 'var.mode == "batch" || var.drain_write_bigquery'
    assert root.variables["drain_write_bigquery"]["default"] is False
    assert root.variables["bigquery_write_method"]["default"] == "storage_write"


def test_scheduler_calls_drain_with_oidc(root: Module) -> None:
    job = root.resource("google_cloud_scheduler_job", "drain")
    assert expr(job["schedule"]) == "var.drain_schedule"
    assert root.variables["drain_schedule"]["default"] == "* * * * *"  # rows within about a minute in batch mode
    target = block(job, "http_target")
    assert expr(target["uri"]) == 'google_cloudfunctions2_function.drain["this"].service_config[0].uri'
    oidc = block(target, "oidc_token")
    assert expr(oidc["service_account_email"]) == 'google_service_account.scheduler["this"].email'
    assert not blocks(target, "oauth_token")


def test_every_variable_is_typed_and_described(root: Module) -> None:
    for name, variable in root.variables.items():
        assert variable.get("type"), f"variable {name} has no type"
        assert len(variable.get("description", "")) > 10, f"variable {name} has no description"
    for name, output in root.outputs.items():
        assert output.get("description"), f"output {name} has no description"


def test_readme_documents_every_input_and_output(root: Module) -> None:
    readme = (TF_DIR / "README.md").read_text(encoding="utf-8")
    for name in root.variables:
        assert f"| `{name}` |" in readme, f"variable {name} missing from terraform/README.md"
    for name in root.outputs:
        assert f"| `{name}` |" in readme, f"output {name} missing from terraform/README.md"
