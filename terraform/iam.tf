# Identities and least-privilege grants. Every data role is granted on the one resource
# it concerns (dataset, bucket, subscription, service); no project-level data role exists.

resource "google_service_account" "ingest" {
  for_each = local.push

  project      = var.project_id
  account_id   = "${var.name_prefix}-ingest"
  display_name = "logexport ingest function (runtime)"
  description  = "Runs ${local.ingest_function_name}: writes rows to the ${var.dataset_id} dataset and objects to the archive."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "drain" {
  for_each = local.pull

  project      = var.project_id
  account_id   = "${var.name_prefix}-drain"
  display_name = "logexport drain function (runtime)"
  description  = "Runs ${local.drain_function_name}: pulls the drain subscription, archives, writes rows or error rows."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "push" {
  for_each = local.push

  project      = var.project_id
  account_id   = "${var.name_prefix}-push"
  display_name = "logexport Pub/Sub push identity"
  description  = "OIDC identity of the ${var.name_prefix}-ingest push subscription; may only invoke ${local.ingest_function_name}."

  depends_on = [google_project_service.this]
}

resource "google_service_account" "scheduler" {
  for_each = local.pull

  project      = var.project_id
  account_id   = "${var.name_prefix}-sched"
  display_name = "logexport Cloud Scheduler identity"
  description  = "OIDC identity of the drain Cloud Scheduler job; may only invoke ${local.drain_function_name}."

  depends_on = [google_project_service.this]
}

# --- BigQuery: dataset level. dataEditor carries bigquery.tables.updateData, which is all
# the Storage Write API and insertAll need; no query jobs run, so no project-level jobUser.

resource "google_bigquery_dataset_iam_member" "ingest_editor" {
  for_each = google_service_account.ingest

  project    = var.project_id
  dataset_id = google_bigquery_dataset.logs.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = each.value.member
}

# drain writes error rows (and request rows in batch mode, or with drain_write_bigquery).
resource "google_bigquery_dataset_iam_member" "drain_editor" {
  for_each = google_service_account.drain

  project    = var.project_id
  dataset_id = google_bigquery_dataset.logs.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = each.value.member
}

# --- Cloud Storage: bucket level, create only. Objects are written with
# if_generation_match=0, which needs storage.objects.create and nothing else (a 412 answers
# "already written" without read access). drain archives; ingest only if asked to.

resource "google_storage_bucket_iam_member" "archive_creator" {
  for_each = merge(
    { for sa in google_service_account.drain : "drain" => sa.member },
    var.ingest_write_archive ? { for sa in google_service_account.ingest : "ingest" => sa.member } : {},
  )

  bucket = google_storage_bucket.archive.name
  role   = "roles/storage.objectCreator"
  member = each.value
}

# --- Pub/Sub: drain may consume its own subscription, nothing else.

resource "google_pubsub_subscription_iam_member" "drain_subscriber" {
  for_each = local.pull

  project      = var.project_id
  subscription = google_pubsub_subscription.drain["this"].name
  role         = "roles/pubsub.subscriber"
  member       = google_service_account.drain["this"].member
}

# --- Invocation: run.invoker on each function's Cloud Run service, for one identity each.

resource "google_cloud_run_v2_service_iam_member" "ingest_invoker" {
  for_each = local.push

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.ingest["this"].name
  role     = "roles/run.invoker"
  member   = google_service_account.push["this"].member
}

resource "google_cloud_run_v2_service_iam_member" "drain_invoker" {
  for_each = local.pull

  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.drain["this"].name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler["this"].member
}

# Pub/Sub mints the push OIDC tokens as the push account. Projects created before
# 2021-04-08 need this grant to the Pub/Sub service agent; newer projects have it built in.
# It is scoped to the push account alone.
resource "google_service_account_iam_member" "pubsub_agent_token_creator" {
  for_each = var.grant_token_creator_to_pubsub_agent ? google_service_account.push : {}

  service_account_id = each.value.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent

  depends_on = [google_project_service_identity.pubsub]
}
