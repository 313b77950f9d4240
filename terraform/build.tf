# How the two functions get built. Cloud Build builds each function's container image as a
# build service account. Since July 2024, new projects build as the Compute Engine default
# service account, which may lack the permissions a build needs (it has no
# roles/cloudbuild.builds.builder, and no role at all where the organization policy
# iam.automaticIamGrantsForDefaultServiceAccounts is enforced): builds fail there. So the
# module always builds as an account it grants exactly what a build needs
# (https://cloud.google.com/functions/docs/securing/build-custom-sa): its own
# <prefix>-build account, or var.build_service_account when set.

resource "google_service_account" "build" {
  count = var.build_service_account == null ? 1 : 0

  project      = var.project_id
  account_id   = "${var.name_prefix}-build"
  display_name = "logexport function builds"
  description  = "Cloud Build identity building ${local.ingest_function_name} and ${local.drain_function_name}."

  depends_on = [google_project_service.this]
}

locals {
  # projects/P/serviceAccounts/EMAIL, the form build_config.service_account takes.
  build_service_account = var.build_service_account == null ? google_service_account.build[0].id : var.build_service_account
  build_member          = "serviceAccount:${element(split("/", local.build_service_account), 3)}"
}

# The images land in our own repository, so the build account writes to it alone (the
# default, gcf-artifacts, only exists after a first deployment, so it cannot be granted
# beforehand). Old images are cleaned up; the newest of each function are always kept.
resource "google_artifact_registry_repository" "functions" {
  #checkov:skip=CKV_GCP_84:The repository holds only images built from this repository's public source; it carries no log data. Google-managed encryption is enough.
  project       = var.project_id
  location      = var.region
  repository_id = "${var.name_prefix}-functions"
  format        = "DOCKER"
  description   = "Container images of the logexport functions, built by Cloud Build."
  labels        = local.labels

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 5
    }
  }

  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "2592000s" # 30 days
    }
  }

  depends_on = [google_project_service.this]
}

# Build logs go to Cloud Logging: the one project-level role, and not a data role.
resource "google_project_iam_member" "build_log_writer" {
  project = var.project_id
  role    = "roles/logging.logWriter"
  member  = local.build_member
}

resource "google_artifact_registry_repository_iam_member" "build_writer" {
  project    = var.project_id
  location   = google_artifact_registry_repository.functions.location
  repository = google_artifact_registry_repository.functions.name
  role       = "roles/artifactregistry.writer"
  member     = local.build_member
}

# The build reads the source zip from our bucket...
resource "google_storage_bucket_iam_member" "build_source_reader" {
  bucket = google_storage_bucket.source.name
  role   = "roles/storage.objectViewer"
  member = local.build_member
}

# ...and from the copy Cloud Functions keeps in its own gcf-v2-sources-<number>-<region>
# bucket, which only exists after the first deployment: granted on the project, limited by
# an IAM condition to those buckets (Storage Object Admin is the role Google documents).
resource "google_project_iam_member" "build_gcf_sources" {
  project = var.project_id
  role    = "roles/storage.objectAdmin"
  member  = local.build_member

  condition {
    title       = "gcf-v2-sources buckets only"
    description = "Cloud Functions' own copies of function sources."
    expression  = "resource.name.startsWith(\"projects/_/buckets/gcf-v2-sources-\")"
  }
}

# IAM grants take up to a minute or two to reach Cloud Build: without this wait, the first
# build of a new project can fail with a permission error although the grants exist.
resource "time_sleep" "build_iam_propagation" {
  create_duration = "60s"

  triggers = {
    member = local.build_member
  }

  depends_on = [
    google_project_iam_member.build_log_writer,
    google_project_iam_member.build_gcf_sources,
    google_artifact_registry_repository_iam_member.build_writer,
    google_storage_bucket_iam_member.build_source_reader,
  ]
}
