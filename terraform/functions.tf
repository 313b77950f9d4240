# The two gen2 functions, built from a zip of the repository files they need, and the
# Cloud Scheduler job that drives drain.

data "archive_file" "source" {
  type        = "zip"
  output_path = "${path.module}/.build/function-source.zip"

  dynamic "source" {
    for_each = toset(local.source_files)
    content {
      filename = source.value
      content  = file("${local.source_root}/${source.value}")
    }
  }
}

# Named by content hash: a change of any source file uploads a new object, which changes
# build_config.source and redeploys both functions.
resource "google_storage_bucket_object" "source" {
  name   = "functions/source-${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path

  lifecycle {
    precondition {
      condition     = contains(local.source_files, "main.py") && contains(local.source_files, "requirements.txt")
      error_message = "The function source needs main.py and requirements.txt at ${local.source_root}."
    }
  }
}

# ingest (modes push and both): an HTTP function that reads our push envelope and Eventarc
# CloudEvents alike, deployed WITHOUT event_trigger. Our own push subscription invokes it over
# HTTP, which lets us put a dead-letter policy and retry policy on the subscription.
resource "google_cloudfunctions2_function" "ingest" {
  for_each = local.push

  project     = var.project_id
  location    = var.region
  name        = local.ingest_function_name
  description = "Pub/Sub push of Cloud Logging entries -> BigQuery rows (logexport)."
  labels      = local.labels

  build_config {
    runtime           = var.runtime
    entry_point       = "ingest"
    service_account   = local.build_service_account
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.ingest["this"].email
    max_instance_count               = var.ingest_max_instances
    min_instance_count               = var.ingest_min_instances
    max_instance_request_concurrency = var.ingest_concurrency
    available_memory                 = var.ingest_memory
    available_cpu                    = var.ingest_cpu
    timeout_seconds                  = var.ingest_timeout_seconds
    ingress_settings                 = var.ingress_settings
    all_traffic_on_latest_revision   = true
    environment_variables            = local.ingest_environment
  }

  lifecycle {
    precondition {
      condition     = var.ack_deadline_seconds >= var.ingest_timeout_seconds
      error_message = "ack_deadline_seconds must be at least ingest_timeout_seconds, else Pub/Sub redelivers messages that are still being processed."
    }
    precondition {
      condition     = local.ingest_needed_seconds <= var.ingest_timeout_seconds
      error_message = "ingest_timeout_seconds must be at least ingest_batch_wait_ms + write_budget_seconds (twice with ingest_write_archive) + 0.5 s per write + 2 s, else the function is cut off while its write goes on and Pub/Sub redelivers stored rows. Raise ingest_timeout_seconds or lower write_budget_seconds."
    }
  }

  depends_on = [
    google_project_service.this,
    time_sleep.build_iam_propagation,
  ]
}

# drain (modes batch and both): an HTTP function that pulls the drain subscription for
# DRAIN_BUDGET_SECONDS, archives every LogEntry and, in batch mode, writes the rows; Cloud
# Scheduler calls it.
resource "google_cloudfunctions2_function" "drain" {
  for_each = local.pull

  project     = var.project_id
  location    = var.region
  name        = local.drain_function_name
  description = local.drain_write_bigquery ? "Pulls Cloud Logging entries in batches: BigQuery rows and the Cloud Storage archive (logexport)." : "Pulls Cloud Logging entries in batches and archives them to Cloud Storage (logexport)."
  labels      = local.labels

  build_config {
    runtime           = var.runtime
    entry_point       = "drain"
    service_account   = local.build_service_account
    docker_repository = google_artifact_registry_repository.functions.id

    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.drain["this"].email
    max_instance_count               = var.drain_max_instances
    min_instance_count               = var.drain_min_instances
    max_instance_request_concurrency = var.drain_concurrency
    available_memory                 = var.drain_memory
    available_cpu                    = var.drain_cpu
    timeout_seconds                  = var.drain_timeout_seconds
    ingress_settings                 = var.ingress_settings
    all_traffic_on_latest_revision   = true
    environment_variables            = local.drain_environment
  }

  lifecycle {
    precondition {
      condition     = local.drain_needed_seconds <= var.drain_timeout_seconds
      error_message = "drain_timeout_seconds must be at least drain_budget_seconds + one last batch (10 s pull, write_budget_seconds per write: twice with drain_write_bigquery, 5 s ack, 0.5 s per call) + 2 s, else drain is killed with a batch stored and not acked. Lower drain_budget_seconds."
    }
    precondition {
      condition     = local.drain_held_seconds <= var.ack_deadline_seconds
      error_message = "ack_deadline_seconds must cover one batch's writes (write_budget_seconds each, + 0.5 s) and its ack (5.5 s) + 2 s, else Pub/Sub redelivers a batch while drain is still storing it."
    }
  }

  depends_on = [
    google_project_service.this,
    time_sleep.build_iam_propagation,
  ]
}

resource "google_cloud_scheduler_job" "drain" {
  for_each = local.pull

  project          = var.project_id
  region           = var.region
  name             = "${var.name_prefix}-drain"
  description      = "Calls ${local.drain_function_name} to drain ${local.drain_subscription_name}."
  schedule         = var.drain_schedule
  time_zone        = var.scheduler_time_zone
  attempt_deadline = "${min(var.drain_timeout_seconds + 20, 1800)}s"

  # A missed run is not retried: the next scheduled run drains what is left.
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.drain["this"].service_config[0].uri
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode("{}")

    oidc_token {
      service_account_email = google_service_account.scheduler["this"].email
      audience              = google_cloudfunctions2_function.drain["this"].service_config[0].uri
    }
  }

  depends_on = [
    google_project_service.this,
    google_cloud_run_v2_service_iam_member.drain_invoker,
  ]
}
