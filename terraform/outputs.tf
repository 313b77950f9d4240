output "sink_name" {
  description = "Name of the Log Router sink."
  value       = local.sink_name
}

output "sink_writer_identity" {
  description = "Identity the sink writes with; it holds roles/pubsub.publisher on the log topic only."
  value       = local.sink_writer_identity
}

output "effective_log_filter" {
  description = "The filter the sink really uses: the chosen filter AND NOT this stack's own logs."
  value       = local.effective_log_filter
}

output "topic_id" {
  description = "Pub/Sub topic receiving the exported LogEntries."
  value       = google_pubsub_topic.logs.id
}

output "mode" {
  description = "The deployment mode: batch (drain writes rows and archive), push (ingest writes rows) or both."
  value       = var.mode
}

output "ingest_subscription_id" {
  description = "Push subscription delivering to the ingest function. Null in batch mode."
  value       = one([for s in google_pubsub_subscription.ingest : s.id])
}

output "drain_subscription_id" {
  description = "Pull subscription drained by the drain function (DRAIN_SUBSCRIPTION). Null in push mode."
  value       = one([for s in google_pubsub_subscription.drain : s.id])
}

output "dead_letter_topic_ids" {
  description = "Dead-letter topics, by consumer (ingest, drain: those the mode deploys)."
  value = merge(
    { for t in google_pubsub_topic.ingest_dead_letter : "ingest" => t.id },
    { for t in google_pubsub_topic.drain_dead_letter : "drain" => t.id },
  )
}

output "dead_letter_subscription_ids" {
  description = "Pull subscriptions retaining the dead letters, by consumer (ingest, drain: those the mode deploys)."
  value       = { for k, s in google_pubsub_subscription.dead_letter : k => s.id }
}

output "dataset_id" {
  description = "BigQuery dataset."
  value       = google_bigquery_dataset.logs.dataset_id
}

output "http_requests_table" {
  description = "Fully qualified requests table (project.dataset.table)."
  value       = "${var.project_id}.${google_bigquery_dataset.logs.dataset_id}.${google_bigquery_table.http_requests.table_id}"
}

output "http_requests_dedup_view" {
  description = "Fully qualified view with one row per Cloud Logging entry (log name, insertId, timestamp)."
  value       = "${var.project_id}.${google_bigquery_dataset.logs.dataset_id}.${google_bigquery_table.http_requests_dedup.table_id}"
}

output "errors_table" {
  description = "Fully qualified errors table."
  value       = "${var.project_id}.${google_bigquery_dataset.logs.dataset_id}.${google_bigquery_table.errors.table_id}"
}

output "archive_external_tables" {
  description = "External tables over the archive, by log ID."
  value       = { for id, t in google_bigquery_table.archive : id => "${var.project_id}.${t.dataset_id}.${t.table_id}" }
}

output "archive_bucket" {
  description = "Bucket holding every LogEntry as gzip NDJSON."
  value       = google_storage_bucket.archive.name
}

output "archive_uri_prefix" {
  description = "gs:// prefix of the archive: {prefix}/{log_id}/dt=YYYY-MM-DD/hour=HH/."
  value       = "gs://${google_storage_bucket.archive.name}/${var.archive_prefix}/"
}

output "source_bucket" {
  description = "Bucket holding the function source zips."
  value       = google_storage_bucket.source.name
}

output "ingest_function_uri" {
  description = "URL of the ingest function (push endpoint). Null in batch mode."
  value       = one([for f in google_cloudfunctions2_function.ingest : f.service_config[0].uri])
}

output "drain_function_uri" {
  description = "URL of the drain function (Cloud Scheduler target). Null in push mode."
  value       = one([for f in google_cloudfunctions2_function.drain : f.service_config[0].uri])
}

output "service_accounts" {
  description = "Emails of the service accounts, by role (ingest, drain, push, scheduler, build); null for a role the mode does not deploy."
  value = {
    ingest    = one([for sa in google_service_account.ingest : sa.email])
    drain     = one([for sa in google_service_account.drain : sa.email])
    push      = one([for sa in google_service_account.push : sa.email])
    scheduler = one([for sa in google_service_account.scheduler : sa.email])
    build     = element(split("/", local.build_service_account), 3)
  }
}

output "image_repository" {
  description = "Artifact Registry repository holding the functions' images."
  value       = google_artifact_registry_repository.functions.id
}

output "scheduler_job" {
  description = "Cloud Scheduler job calling drain. Null in push mode."
  value       = one([for j in google_cloud_scheduler_job.drain : j.id])
}

output "forward_enabled" {
  description = "Whether forwarding to syslog is deployed (a destination was given)."
  value       = local.forward_enabled
}

output "forward_effective_log_filter" {
  description = "The filter the forward sink really uses: forward_log_filter (or its default) AND NOT this stack's own logs."
  value       = module.forward_filter.filter
}

output "forward_sink_writer_identity" {
  description = "Identity the forward sink writes with; it holds roles/pubsub.publisher on the forward topic only. Null when forwarding is off."
  value       = local.forward_sink_writer_identity
}

output "forward_topic_id" {
  description = "Pub/Sub topic the forward sink publishes to. Null when forwarding is off."
  value       = one([for t in google_pubsub_topic.forward : t.id])
}

output "forward_subscription_id" {
  description = "Pull subscription forward consumes (FORWARD_SUBSCRIPTION). Null when forwarding is off."
  value       = one([for s in google_pubsub_subscription.forward : s.id])
}

output "forward_dead_letter_subscription_id" {
  description = "Pull subscription retaining forward's dead letters (entries that failed max_delivery_attempts times, and messages that are no LogEntry). Null when forwarding is off."
  value       = one([for s in google_pubsub_subscription.forward_dead_letter : s.id])
}

output "forward_destination_secret" {
  description = "Secret Manager secret holding the destination (created here or given). Null when forwarding is off."
  value       = local.forward_enabled ? local.forward_destination_secret : null
}

output "forward_function_uri" {
  description = "URL of the forward function (Cloud Scheduler target). Null when forwarding is off."
  value       = one([for f in google_cloudfunctions2_function.forward : f.service_config[0].uri])
}

output "report_functions" {
  description = "The report's table functions, fn(since TIMESTAMP, until TIMESTAMP), by name."
  value       = { for name, routine in google_bigquery_routine.report : name => "${routine.project}.${routine.dataset_id}.${routine.routine_id}" }
}
