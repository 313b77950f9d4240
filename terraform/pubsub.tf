# Topic fed by the sink and its consumers by mode (push to ingest, pull by drain), each with its
# own dead-letter topic and a pull subscription that retains the dead letters for inspection.

resource "google_pubsub_topic" "logs" {
  project                    = var.project_id
  name                       = "${var.name_prefix}-logs"
  labels                     = local.labels
  message_retention_duration = var.topic_message_retention_duration
  kms_key_name               = var.pubsub_kms_key_name

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic" "ingest_dead_letter" {
  for_each = local.push

  project                    = var.project_id
  name                       = "${var.name_prefix}-ingest-dead-letter"
  labels                     = local.labels
  message_retention_duration = var.dead_letter_retention_duration
  kms_key_name               = var.pubsub_kms_key_name

  depends_on = [google_project_service.this]
}

resource "google_pubsub_topic" "drain_dead_letter" {
  for_each = local.pull

  project                    = var.project_id
  name                       = "${var.name_prefix}-drain-dead-letter"
  labels                     = local.labels
  message_retention_duration = var.dead_letter_retention_duration
  kms_key_name               = var.pubsub_kms_key_name

  depends_on = [google_project_service.this]
}

# Push: Pub/Sub POSTs each message to ingest with an OIDC token of the push service account.
# Not an Eventarc trigger, because Eventarc-created subscriptions cannot carry a dead-letter
# policy.
resource "google_pubsub_subscription" "ingest" {
  for_each = local.push

  project                    = var.project_id
  name                       = "${var.name_prefix}-ingest"
  topic                      = google_pubsub_topic.logs.id
  labels                     = local.labels
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.subscription_message_retention_duration

  push_config {
    push_endpoint = google_cloudfunctions2_function.ingest["this"].service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.push["this"].email
      audience              = google_cloudfunctions2_function.ingest["this"].service_config[0].uri
    }
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.ingest_dead_letter["this"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  # Never expire for inactivity (the default is 31 days without deliveries).
  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_v2_service_iam_member.ingest_invoker,
    google_pubsub_topic_iam_member.pubsub_agent_dead_letter,
  ]
}

# Pull: drain consumes in batches when Cloud Scheduler calls it.
resource "google_pubsub_subscription" "drain" {
  for_each = local.pull

  project                    = var.project_id
  name                       = local.drain_subscription_name
  topic                      = google_pubsub_topic.logs.id
  labels                     = local.labels
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = var.subscription_message_retention_duration

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.drain_dead_letter["this"].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  retry_policy {
    minimum_backoff = var.retry_minimum_backoff
    maximum_backoff = var.retry_maximum_backoff
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [google_pubsub_topic_iam_member.pubsub_agent_dead_letter]
}

# Dead letters are only retained if a subscription exists on the dead-letter topic.
resource "google_pubsub_subscription" "dead_letter" {
  for_each = merge(
    { for t in google_pubsub_topic.ingest_dead_letter : "ingest" => t.id },
    { for t in google_pubsub_topic.drain_dead_letter : "drain" => t.id },
  )

  project                    = var.project_id
  name                       = "${var.name_prefix}-${each.key}-dead-letter"
  topic                      = each.value
  labels                     = local.labels
  ack_deadline_seconds       = 60
  message_retention_duration = var.dead_letter_retention_duration
  retain_acked_messages      = true

  expiration_policy {
    ttl = ""
  }
}

# The Pub/Sub service agent (service-<number>@gcp-sa-pubsub) is created lazily: in a project
# that never used Pub/Sub it may not exist yet, and granting it a role fails ("Service account
# ... does not exist"). Generating the service identity creates it first; the grants below
# wait for it. (Its email is built from the project number rather than read from this
# resource, because generateServiceIdentity does not return an email for every service.)
resource "google_project_service_identity" "pubsub" {
  provider = google-beta

  project = var.project_id
  service = "pubsub.googleapis.com"

  depends_on = [google_project_service.this]
}

# The Pub/Sub service agent forwards undeliverable messages: it must publish to the
# dead-letter topics and subscribe to the source subscriptions (to ack what it forwarded).
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letter" {
  for_each = merge(
    { for t in google_pubsub_topic.ingest_dead_letter : "ingest" => t.name },
    { for t in google_pubsub_topic.drain_dead_letter : "drain" => t.name },
  )

  project = var.project_id
  topic   = each.value
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent

  depends_on = [google_project_service_identity.pubsub]
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_source" {
  for_each = merge(
    { for s in google_pubsub_subscription.ingest : "ingest" => s.name },
    { for s in google_pubsub_subscription.drain : "drain" => s.name },
  )

  project      = var.project_id
  subscription = each.value
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent

  depends_on = [google_project_service_identity.pubsub]
}
