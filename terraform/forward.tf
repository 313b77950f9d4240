# Forwarding to a syslog destination (Papertrail, an rsyslog or syslog-ng relay), off unless a
# destination is given: its own Log Router sink and filter, topic, pull subscription with a
# dead-letter topic, the `forward` function driven by Cloud Scheduler, and the destination in
# Secret Manager. Each grant sits beside the resource it is on.

locals {
  # A boolean about a sensitive value: whether it is set reveals nothing of it.
  forward_destination_given = nonsensitive(var.forward_destination != null)
  forward_enabled           = local.forward_destination_given || var.forward_destination_secret != null
  forward                   = local.forward_enabled ? toset(["this"]) : toset([])
  forward_apis              = local.forward_enabled ? ["secretmanager.googleapis.com"] : []

  forward_function_name     = "${var.name_prefix}-forward"
  forward_sink_name         = "${var.name_prefix}-forward"
  forward_subscription_name = "${var.name_prefix}-forward"
  # The cluster's container logs and warnings from anything; this stack's own logs are
  # always excluded by modules/log-filter (forward's own failures would loop otherwise).
  forward_default_filter = "resource.type=\"k8s_container\" OR severity>=WARNING"
  forward_ca_mount       = "/etc/logexport/forward-ca"

  forward_destination_secret = local.forward_destination_given ? one(google_secret_manager_secret.forward_destination[*].id) : var.forward_destination_secret
  forward_sink_writer_identity = one(concat(
    google_logging_project_sink.forward[*].writer_identity,
    google_logging_folder_sink.forward[*].writer_identity,
    google_logging_organization_sink.forward[*].writer_identity,
  ))

  forward_environment = {
    GOOGLE_CLOUD_PROJECT         = var.project_id
    FORWARD_SUBSCRIPTION         = "projects/${var.project_id}/subscriptions/${local.forward_subscription_name}"
    FORWARD_FRAMING              = var.forward_framing
    FORWARD_FACILITY             = var.forward_facility
    FORWARD_MAX_MESSAGE_BYTES    = tostring(var.forward_max_message_bytes)
    FORWARD_BATCH_SIZE           = tostring(var.forward_batch_size)
    FORWARD_BUDGET_SECONDS       = tostring(var.forward_budget_seconds)
    FORWARD_LINGER_SECONDS       = tostring(var.forward_linger_seconds)
    FORWARD_SEND_TIMEOUT_SECONDS = tostring(var.forward_send_timeout_seconds)
    LOG_LEVEL                    = var.log_level
  }
  forward_ca_environment = var.forward_ca_secret == null ? {} : { FORWARD_CA_FILE = "${local.forward_ca_mount}/ca.pem" }
}

# --- The destination: a secret (Papertrail's host:port is the key to the account) --------

resource "google_secret_manager_secret" "forward_destination" {
  count = local.forward_destination_given ? 1 : 0

  project   = var.project_id
  secret_id = "${var.name_prefix}-forward-destination"
  labels    = local.labels

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret_version" "forward_destination" {
  count = local.forward_destination_given ? 1 : 0

  secret      = google_secret_manager_secret.forward_destination[0].id
  secret_data = var.forward_destination
}

# forward may read the destination secret (and the CA bundle's), nothing else.
resource "google_secret_manager_secret_iam_member" "forward_destination_accessor" {
  for_each = local.forward

  secret_id = local.forward_destination_secret
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.forward["this"].member
}

resource "google_secret_manager_secret_iam_member" "forward_ca_accessor" {
  for_each = var.forward_ca_secret == null ? toset([]) : local.forward

  secret_id = var.forward_ca_secret
  role      = "roles/secretmanager.secretAccessor"
  member    = google_service_account.forward["this"].member
}

# --- Log Router sink -> topic (one of three, as var.sink_scope chooses) ------------------

module "forward_filter" {
  source = "./modules/log-filter"

  log_filter              = coalesce(var.forward_log_filter, local.forward_default_filter)
  excluded_function_names = local.function_names
}

resource "google_logging_project_sink" "forward" {
  count = local.forward_enabled && var.sink_scope == "project" ? 1 : 0

  project                = var.project_id
  name                   = local.forward_sink_name
  description            = "Logs forwarded to syslog through ${google_pubsub_topic.forward["this"].name} (logexport)."
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.forward["this"].id}"
  filter                 = module.forward_filter.filter
  unique_writer_identity = true

  depends_on = [google_project_service.this]
}

resource "google_logging_folder_sink" "forward" {
  count = local.forward_enabled && var.sink_scope == "folder" ? 1 : 0

  folder           = "folders/${var.sink_parent_id}"
  name             = local.forward_sink_name
  description      = "Logs forwarded to syslog through ${google_pubsub_topic.forward["this"].id} (logexport)."
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.forward["this"].id}"
  filter           = module.forward_filter.filter
  include_children = var.sink_include_children
}

resource "google_logging_organization_sink" "forward" {
  count = local.forward_enabled && var.sink_scope == "organization" ? 1 : 0

  org_id           = var.sink_parent_id
  name             = local.forward_sink_name
  description      = "Logs forwarded to syslog through ${google_pubsub_topic.forward["this"].id} (logexport)."
  destination      = "pubsub.googleapis.com/${google_pubsub_topic.forward["this"].id}"
  filter           = module.forward_filter.filter
  include_children = var.sink_include_children
}

resource "google_pubsub_topic" "forward" {
  for_each = local.forward

  project                    = var.project_id
  name                       = "${var.name_prefix}-forward"
  labels                     = local.labels
  message_retention_duration = var.topic_message_retention_duration
  kms_key_name               = var.pubsub_kms_key_name

  depends_on = [google_project_service.this]
}

# The forward sink's identity may publish to the forward topic, and nothing else.
resource "google_pubsub_topic_iam_member" "forward_sink_writer" {
  for_each = local.forward

  project = var.project_id
  topic   = google_pubsub_topic.forward["this"].name
  role    = "roles/pubsub.publisher"
  member  = local.forward_sink_writer_identity
}

# --- Subscription, dead letters -------------------------------------------------------------

resource "google_pubsub_topic" "forward_dead_letter" {
  for_each = local.forward

  project                    = var.project_id
  name                       = "${var.name_prefix}-forward-dead-letter"
  labels                     = local.labels
  message_retention_duration = var.dead_letter_retention_duration
  kms_key_name               = var.pubsub_kms_key_name

  depends_on = [google_project_service.this]
}

# The Pub/Sub service agent forwards undeliverable messages (and what forward hands back
# as no LogEntry) to the dead-letter topic.
resource "google_pubsub_topic_iam_member" "forward_agent_dead_letter" {
  for_each = local.forward

  project = var.project_id
  topic   = google_pubsub_topic.forward_dead_letter["this"].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent

  depends_on = [google_project_service_identity.pubsub]
}

# Pull: forward sends a batch over one connection and acks it once the receiver read it.
resource "google_pubsub_subscription" "forward" {
  for_each = local.forward

  project                    = var.project_id
  name                       = local.forward_subscription_name
  topic                      = google_pubsub_topic.forward["this"].id
  labels                     = local.labels
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.subscription_message_retention_duration

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.forward_dead_letter["this"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_pubsub_topic_iam_member.forward_agent_dead_letter]
}

resource "google_pubsub_subscription_iam_member" "forward_agent_source" {
  for_each = local.forward

  project      = var.project_id
  subscription = google_pubsub_subscription.forward["this"].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent

  depends_on = [google_project_service_identity.pubsub]
}

# forward may consume its own subscription, nothing else.
resource "google_pubsub_subscription_iam_member" "forward_subscriber" {
  for_each = local.forward

  project      = var.project_id
  subscription = google_pubsub_subscription.forward["this"].name
  role         = "roles/pubsub.subscriber"
  member       = google_service_account.forward["this"].member
}

resource "google_pubsub_subscription" "forward_dead_letter" {
  for_each = local.forward

  project                    = var.project_id
  name                       = "${var.name_prefix}-forward-dead-letter"
  topic                      = google_pubsub_topic.forward_dead_letter["this"].id
  labels                     = local.labels
  ack_deadline_seconds       = 60
  message_retention_duration = var.dead_letter_retention_duration
  retain_acked_messages      = true

  expiration_policy {
    ttl = ""
  }
}

# --- The function and what calls it -------------------------------------------------------

resource "google_service_account" "forward" {
  for_each = local.forward

  project      = var.project_id
  account_id   = "${var.name_prefix}-forward"
  display_name = "logexport forward function (runtime)"
  description  = "Runs ${local.forward_function_name}: pulls the forward subscription, reads the destination secret."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "forward_scheduler" {
  for_each = local.forward

  project      = var.project_id
  account_id   = "${var.name_prefix}-fwdcron"
  display_name = "logexport forward Cloud Scheduler identity"
  description  = "OIDC identity of the forward Cloud Scheduler job; may only invoke ${local.forward_function_name}."

  depends_on = [google_project_service.this]
}

resource "google_cloudfunctions2_function" "forward" {
  for_each = local.forward

  project     = var.project_id
  location    = var.region
  name        = local.forward_function_name
  description = "Pulls exported log entries in batches and sends them to a syslog destination over TLS (logexport)."
  labels      = local.labels

  build_config {
    runtime           = var.runtime
    entry_point       = "forward"
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
    service_account_email            = google_service_account.forward["this"].email
    max_instance_count               = 1 # one loop at a time: batches leave in order
    min_instance_count               = 0
    max_instance_request_concurrency = 1
    available_memory                 = var.forward_memory
    available_cpu                    = "1"
    timeout_seconds                  = var.forward_timeout_seconds
    ingress_settings                 = var.ingress_settings
    all_traffic_on_latest_revision   = true
    environment_variables            = merge(local.forward_environment, local.forward_ca_environment)

    secret_environment_variables {
      key        = "FORWARD_DESTINATION"
      project_id = element(split("/", local.forward_destination_secret), 1)
      secret     = element(split("/", local.forward_destination_secret), 3)
      version    = "latest"
    }

    dynamic "secret_volumes" {
      for_each = var.forward_ca_secret == null ? [] : [var.forward_ca_secret]
      content {
        mount_path = local.forward_ca_mount
        project_id = element(split("/", secret_volumes.value), 1)
        secret     = element(split("/", secret_volumes.value), 3)
        versions {
          version = "latest"
          path    = "ca.pem"
        }
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.forward_budget_seconds + 30 <= var.forward_timeout_seconds
      error_message = "forward_budget_seconds must stay at least 30 s below forward_timeout_seconds: the last batch and the summary need time after the budget."
    }
    precondition {
      condition     = var.forward_linger_seconds < var.forward_budget_seconds
      error_message = "forward_linger_seconds must be below forward_budget_seconds."
    }
  }

  depends_on = [
    google_project_service.this,
    time_sleep.build_iam_propagation,
    # Cloud Run checks at deploy time that the runtime account can read its secrets.
    google_secret_manager_secret_iam_member.forward_destination_accessor,
    google_secret_manager_secret_iam_member.forward_ca_accessor,
    google_secret_manager_secret_version.forward_destination,
  ]
}

resource "google_cloud_run_v2_service_iam_member" "forward_invoker" {
  for_each = local.forward

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.forward["this"].name
  role     = "roles/run.invoker"
  member   = google_service_account.forward_scheduler["this"].member
}

resource "google_cloud_scheduler_job" "forward" {
  for_each = local.forward

  project          = var.project_id
  region           = var.region
  name             = "${var.name_prefix}-forward"
  description      = "Calls ${local.forward_function_name} to forward ${google_pubsub_subscription.forward["this"].name} to syslog."
  schedule         = var.forward_schedule
  time_zone        = var.scheduler_time_zone
  attempt_deadline = "${min(var.forward_timeout_seconds + 20, 1800)}s"

  # A missed run is not retried: the next run, a minute later, forwards what is left.
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.forward["this"].service_config[0].uri
    headers     = { "Content-Type" = "application/json" }
    body        = base64encode("{}")

    oidc_token {
      service_account_email = google_service_account.forward_scheduler["this"].email
      audience              = google_cloudfunctions2_function.forward["this"].service_config[0].uri
    }
  }

  depends_on = [
    google_project_service.this,
    google_cloud_run_v2_service_iam_member.forward_invoker,
  ]
}
