# Identities and least-privilege grants. Every data role is granted on the one resource
# it concerns (dataset, bucket, subscription, service); no project-level data role exists.

resource "google_service_account" "ingest" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-ingest"
  display_name = "logexport ingest function (runtime)"
  description  = "Runs ${local.ingest_function_name}: writes rows to the ${var.dataset_id} dataset and objects to the archive."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "drain" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-drain"
  display_name = "logexport drain function (runtime)"
  description  = "Runs ${local.drain_function_name}: pulls the drain subscription, archives, writes error rows."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-push"
  display_name = "logexport Pub/Sub push identity"
  description  = "OIDC identity of the ${var.name_prefix}-ingest push subscription; may only invoke ${local.ingest_function_name}."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-sched"
  display_name = "logexport Cloud Scheduler identity"
  description  = "OIDC identity of the drain Cloud Scheduler job; may only invoke ${local.drain_function_name}."

  depends_on = [google_project_service.this]
}

# --- BigQuery: dataset level. dataEditor carries bigquery.tables.updateData, which is all
# the Storage Write API and insertAll need; no query jobs run, so no project-level jobUser.

resource "google_bigquery_dataset_iam_member" "ingest_editor" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.logs.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_service_account.ingest.member
}

# drain writes error rows (and request rows when drain_write_bigquery is true).
resource "google_bigquery_dataset_iam_member" "drain_editor" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.logs.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = google_service_account.drain.member
}

# --- Cloud Storage: bucket level, create only. Objects are written with
# if_generation_match=0, which needs storage.objects.create and nothing else (a 412 answers
# "already written" without read access). drain archives; ingest only if asked to.

resource "google_storage_bucket_iam_member" "archive_creator" {
  for_each = merge(
    { drain = google_service_account.drain.member },
    var.ingest_write_archive ? { ingest = google_service_account.ingest.member } : {},
  )

  bucket = google_storage_bucket.archive.name
  role   = "roles/storage.objectCreator"
  member = each.value
}

# --- Pub/Sub: drain may consume its own subscription, nothing else.

resource "google_pubsub_subscription_iam_member" "drain_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.drain.name
  role         = "roles/pubsub.subscriber"
  member       = google_service_account.drain.member
}

# --- Invocation: run.invoker on each function's Cloud Run service, for one identity each.

resource "google_cloud_run_v2_service_iam_member" "ingest_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.ingest.name
  role     = "roles/run.invoker"
  member   = google_service_account.push.member
}

resource "google_cloud_run_v2_service_iam_member" "drain_invoker" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.drain.name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler.member
}

# Pub/Sub mints the push OIDC tokens as the push account. Projects created before
# 2021-04-08 need this grant to the Pub/Sub service agent; newer projects have it built in.
# It is scoped to the push account alone.
resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  count = var.grant_token_creator_to_pubsub_agent ? 1 : 0

  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent

  depends_on = [google_project_service_identity.pubsub]
}
