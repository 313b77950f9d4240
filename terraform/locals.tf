locals {
  # cloudresourcemanager.googleapis.com has its own resource (apis.tf).
  required_apis = [
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "bigquerystorage.googleapis.com",
    "cloudbuild.googleapis.com",
    "cloudfunctions.googleapis.com",
    "cloudscheduler.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com",
    "serviceusage.googleapis.com",
    "storage.googleapis.com",
  ]

  labels = merge(var.labels, { "managed-by" = "terraform", "app" = "logexport" })

  ingest_function_name = "${var.name_prefix}-ingest"
  drain_function_name  = "${var.name_prefix}-drain"
  function_names       = [local.ingest_function_name, local.drain_function_name, local.forward_function_name]

  archive_bucket_name = coalesce(var.archive_bucket_name, "${var.project_id}-${var.name_prefix}-archive")
  source_bucket_name  = "${var.project_id}-${var.name_prefix}-source"

  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # -------------------------------------------------------------------------------------
  # Sink filter
  # -------------------------------------------------------------------------------------

  # The sink filter: built by modules/log-filter, which always appends the exclusion of
  # these functions' own logs (else every push to ingest would be exported again).
  effective_log_filter = module.log_filter.filter

  sink_name        = "${var.name_prefix}-http-requests"
  sink_destination = "pubsub.googleapis.com/${google_pubsub_topic.logs.id}"
  sink_writer_identity = one(concat(
    google_logging_project_sink.this[*].writer_identity,
    google_logging_folder_sink.this[*].writer_identity,
    google_logging_organization_sink.this[*].writer_identity,
  ))

  # -------------------------------------------------------------------------------------
  # Function configuration (names read by functions/config.py)
  # -------------------------------------------------------------------------------------

  # The deployment mode (var.mode) decides which consumers exist: push (the ingest function and
  # its push subscription) and pull (the drain function, its subscription and scheduler job).
  push_enabled = contains(["push", "both"], var.mode)
  pull_enabled = contains(["batch", "both"], var.mode)
  push         = local.push_enabled ? toset(["this"]) : toset([])
  pull         = local.pull_enabled ? toset(["this"]) : toset([])
  # In batch mode drain is the only writer: it writes the rows as well as the archive.
  drain_write_bigquery = var.mode == "batch" || var.drain_write_bigquery

  drain_subscription_name = "${var.name_prefix}-drain"
  drain_subscription_path = "projects/${var.project_id}/subscriptions/${local.drain_subscription_name}"

  common_environment = {
    GOOGLE_CLOUD_PROJECT  = var.project_id
    BIGQUERY_DATASET      = google_bigquery_dataset.logs.dataset_id
    BIGQUERY_TABLE        = google_bigquery_table.http_requests.table_id
    BIGQUERY_ERROR_TABLE  = google_bigquery_table.errors.table_id
    BIGQUERY_WRITE_METHOD = var.bigquery_write_method
    ARCHIVE_BUCKET        = google_storage_bucket.archive.name
    ARCHIVE_PREFIX        = var.archive_prefix
  }

  # Budgets and limits both functions read; the timeouts let them check that their budgets nest.
  runtime_environment = {
    WRITE_BUDGET_SECONDS = tostring(var.write_budget_seconds)
    MAX_MESSAGE_BYTES    = tostring(var.max_message_bytes)
    ACK_DEADLINE_SECONDS = tostring(var.ack_deadline_seconds)
    LOG_LEVEL            = var.log_level
  }

  ingest_environment = merge(local.common_environment, local.runtime_environment, {
    INGEST_WRITE_ARCHIVE   = var.ingest_write_archive ? "true" : "false"
    INGEST_BATCH_WAIT_MS   = tostring(var.ingest_batch_wait_ms)
    INGEST_TIMEOUT_SECONDS = tostring(var.ingest_timeout_seconds)
  })

  drain_only_environment = {
    DRAIN_SUBSCRIPTION    = local.drain_subscription_path
    DRAIN_BATCH_SIZE      = tostring(var.drain_batch_size)
    DRAIN_BUDGET_SECONDS  = tostring(var.drain_budget_seconds)
    DRAIN_WRITE_BIGQUERY  = local.drain_write_bigquery ? "true" : "false"
    DRAIN_TIMEOUT_SECONDS = tostring(var.drain_timeout_seconds)
  }

  drain_environment = merge(local.common_environment, local.runtime_environment, local.drain_only_environment)

  # -------------------------------------------------------------------------------------
  # Budgets that nest: the time model of functions/config.py, whose Settings.check_ingest and
  # check_drain refuse the same orderings at run time (tests/terraform keeps the numbers equal).
  # A write may end one minimum attempt timeout after its budget; a pull and an ack are bounded
  # calls; the margin is for parsing, logging and answering.
  # -------------------------------------------------------------------------------------

  write_overrun_seconds   = 0.5
  pull_timeout_seconds    = 10
  ack_timeout_seconds     = 5
  response_margin_seconds = 2

  ingest_needed_seconds = (var.ingest_batch_wait_ms / 1000 + (var.ingest_write_archive ? 2 : 1) *
  (var.write_budget_seconds + local.write_overrun_seconds) + local.response_margin_seconds)
  drain_store_seconds = (local.drain_write_bigquery ? 2 : 1) * (var.write_budget_seconds + local.write_overrun_seconds)
  drain_needed_seconds = (var.drain_budget_seconds + local.pull_timeout_seconds + local.write_overrun_seconds +
  local.drain_store_seconds + local.ack_timeout_seconds + local.write_overrun_seconds + local.response_margin_seconds)
  drain_held_seconds = (local.drain_store_seconds + local.ack_timeout_seconds + local.write_overrun_seconds +
  local.response_margin_seconds)

  # -------------------------------------------------------------------------------------
  # Function source: only what the functions import
  # -------------------------------------------------------------------------------------

  source_root = coalesce(var.source_root, abspath("${path.module}/.."))
  source_files = sort(concat(
    tolist(fileset(local.source_root, "{main.py,requirements.txt}")),
    [for f in fileset(local.source_root, "{functions,sinks}/**") : f if !strcontains(f, "__pycache__") && !endswith(f, ".pyc")],
  ))
}
