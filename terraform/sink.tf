# Log Router sink -> Pub/Sub topic. Exactly one of the three sinks exists (var.sink_scope).
# Every sink uses the effective filter, i.e. the user's filter AND NOT this stack's own logs.
# A topic keeps a message only for the subscriptions that exist when it is published, so
# each sink waits for both subscriptions: nothing is exported before it can be delivered.

module "log_filter" {
  source = "./modules/log-filter"

  log_filter              = var.log_filter
  gke_namespaces          = var.gke_namespaces
  excluded_function_names = local.function_names
}

resource "google_logging_project_sink" "this" {
  count = var.sink_scope == "project" ? 1 : 0

  project                = var.project_id
  name                   = local.sink_name
  description            = "HTTP request logs to ${google_pubsub_topic.logs.name} (logexport)."
  destination            = local.sink_destination
  filter                 = local.effective_log_filter
  unique_writer_identity = true

  dynamic "exclusions" {
    for_each = var.sink_exclusions
    content {
      name        = exclusions.value.name
      description = exclusions.value.description
      filter      = exclusions.value.filter
      disabled    = exclusions.value.disabled
    }
  }

  depends_on = [
    google_project_service.this,
    google_pubsub_subscription.ingest,
    google_pubsub_subscription.drain,
  ]
}

resource "google_logging_folder_sink" "this" {
  count = var.sink_scope == "folder" ? 1 : 0

  folder           = "folders/${var.sink_parent_id}"
  name             = local.sink_name
  description      = "HTTP request logs to ${google_pubsub_topic.logs.id} (logexport)."
  destination      = local.sink_destination
  filter           = local.effective_log_filter
  include_children = var.sink_include_children

  dynamic "exclusions" {
    for_each = var.sink_exclusions
    content {
      name        = exclusions.value.name
      description = exclusions.value.description
      filter      = exclusions.value.filter
      disabled    = exclusions.value.disabled
    }
  }

  lifecycle {
    precondition {
      condition     = var.sink_parent_id != null
      error_message = "sink_scope = \"folder\" needs sink_parent_id (the numeric folder ID)."
    }
  }

  depends_on = [
    google_project_service.this,
    google_pubsub_subscription.ingest,
    google_pubsub_subscription.drain,
  ]
}

resource "google_logging_organization_sink" "this" {
  count = var.sink_scope == "organization" ? 1 : 0

  org_id           = var.sink_parent_id
  name             = local.sink_name
  description      = "HTTP request logs to ${google_pubsub_topic.logs.id} (logexport)."
  destination      = local.sink_destination
  filter           = local.effective_log_filter
  include_children = var.sink_include_children

  dynamic "exclusions" {
    for_each = var.sink_exclusions
    content {
      name        = exclusions.value.name
      description = exclusions.value.description
      filter      = exclusions.value.filter
      disabled    = exclusions.value.disabled
    }
  }

  lifecycle {
    precondition {
      condition     = var.sink_parent_id != null
      error_message = "sink_scope = \"organization\" needs sink_parent_id (the numeric organization ID)."
    }
  }

  depends_on = [
    google_project_service.this,
    google_pubsub_subscription.ingest,
    google_pubsub_subscription.drain,
  ]
}

# The sink's own identity may publish to the log topic, and nothing else.
resource "google_pubsub_topic_iam_member" "sink_writer" {
  project = var.project_id
  topic   = google_pubsub_topic.logs.name
  role    = "roles/pubsub.publisher"
  member  = local.sink_writer_identity
}
