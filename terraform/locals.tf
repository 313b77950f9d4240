locals {
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
    "storage.googleapis.com",
  ]

  labels = merge(var.labels, { "managed-by" = "terraform", "app" = "logexport" })

  ingest_function_name = "${var.name_prefix}-ingest"
  drain_function_name  = "${var.name_prefix}-drain"
  function_names       = [local.ingest_function_name, local.drain_function_name]

  storage_location    = coalesce(var.storage_location, upper(var.region))
  archive_bucket_name = coalesce(var.archive_bucket_name, "${var.project_id}-${var.name_prefix}-archive")
  source_bucket_name  = "${var.project_id}-${var.name_prefix}-source"

  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"

  # -------------------------------------------------------------------------------------
  # Sink filter
  # -------------------------------------------------------------------------------------

  # GKE container stdout in the chosen namespaces (nginx/Apache/Envoy access lines).
  gke_namespace_clause = join(" OR ", [for ns in var.gke_namespaces : "resource.labels.namespace_name=\"${ns}\""])
  gke_stdout_filter    = length(var.gke_namespaces) == 0 ? "" : "(resource.type=\"k8s_container\" AND log_id(\"stdout\") AND (${local.gke_namespace_clause}))"

  # Load balancers, Cloud CDN, Cloud Run, App Engine, Cloud Functions gen2: the httpRequest
  # field; App Engine's RequestLog protoPayload may carry the request without it.
  default_log_filter = join(" OR ", compact([
    "httpRequest:*",
    "protoPayload.@type=\"type.googleapis.com/google.appengine.logging.v1.RequestLog\"",
    local.gke_stdout_filter,
  ]))

  base_log_filter = coalesce(var.log_filter, local.default_log_filter)

  # This stack's own logs, ALWAYS excluded to prevent a feedback loop: gen2 functions log as
  # Cloud Run revisions (and Cloud Run writes a request log, with httpRequest, for every
  # push to ingest and every scheduler call to drain) and as cloud_function; the functions'
  # own structured logs carry the label logexport_component.
  self_service_clause  = join(" OR ", [for name in local.function_names : "resource.labels.service_name=\"${name}\""])
  self_function_clause = join(" OR ", [for name in local.function_names : "resource.labels.function_name=\"${name}\""])
  self_exclusion_filter = join(" OR ", [
    "(resource.type=\"cloud_run_revision\" AND (${local.self_service_clause}))",
    "(resource.type=\"cloud_function\" AND (${local.self_function_clause}))",
    "labels.logexport_component:*",
  ])

  effective_log_filter = "(${local.base_log_filter}) AND NOT (${local.self_exclusion_filter})"

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

  drain_subscription_path = "projects/${var.project_id}/subscriptions/${google_pubsub_subscription.drain.name}"

  common_environment = {
    GOOGLE_CLOUD_PROJECT  = var.project_id
    BIGQUERY_DATASET      = google_bigquery_dataset.logs.dataset_id
    BIGQUERY_TABLE        = google_bigquery_table.http_requests.table_id
    BIGQUERY_ERROR_TABLE  = google_bigquery_table.errors.table_id
    BIGQUERY_WRITE_METHOD = var.bigquery_write_method
    ARCHIVE_BUCKET        = google_storage_bucket.archive.name
    ARCHIVE_PREFIX        = var.archive_prefix
  }

  drain_environment = merge(local.common_environment, {
    DRAIN_SUBSCRIPTION   = local.drain_subscription_path
    DRAIN_BATCH_SIZE     = tostring(var.drain_batch_size)
    DRAIN_BUDGET_SECONDS = tostring(var.drain_budget_seconds)
    DRAIN_WRITE_BIGQUERY = var.drain_write_bigquery ? "true" : "false"
  })

  # -------------------------------------------------------------------------------------
  # Function source: only what the functions import
  # -------------------------------------------------------------------------------------

  source_root = coalesce(var.source_root, abspath("${path.module}/.."))
  source_files = sort(concat(
    tolist(fileset(local.source_root, "{main.py,requirements.txt}")),
    [for f in fileset(local.source_root, "{functions,sinks}/**") : f if !strcontains(f, "__pycache__") && !endswith(f, ".pyc")],
  ))
}
