# The archive (every LogEntry, gzip NDJSON) and the bucket holding the function source.

resource "google_storage_bucket" "archive" {
  #checkov:skip=CKV_GCP_78:Versioning is a variable (archive_versioning), off by default: archive objects are written once with if_generation_match=0 and never replaced, so versions add cost without protecting anything; archive_retention_days is the tamper-resistance control.
  #checkov:skip=CKV_GCP_62:Usage logging is a variable (access_log_bucket), off by default: it needs a second, pre-existing bucket; Cloud Audit Logs (Data Access) record object access when enabled.
  project                     = var.project_id
  name                        = local.archive_bucket_name
  location                    = local.storage_location
  storage_class               = "STANDARD"
  labels                      = local.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy

  versioning {
    enabled = var.archive_versioning
  }

  dynamic "lifecycle_rule" {
    for_each = var.archive_nearline_age_days == null ? [] : [var.archive_nearline_age_days]
    content {
      condition {
        age                   = lifecycle_rule.value
        matches_storage_class = ["STANDARD"]
      }
      action {
        type          = "SetStorageClass"
        storage_class = "NEARLINE"
      }
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.archive_coldline_age_days == null ? [] : [var.archive_coldline_age_days]
    content {
      condition {
        age                   = lifecycle_rule.value
        matches_storage_class = ["STANDARD", "NEARLINE"]
      }
      action {
        type          = "SetStorageClass"
        storage_class = "COLDLINE"
      }
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.archive_delete_age_days == null ? [] : [var.archive_delete_age_days]
    content {
      condition {
        age = lifecycle_rule.value
      }
      action {
        type = "Delete"
      }
    }
  }

  # Clean up after versioning, when it is enabled: noncurrent versions go after 30 days.
  dynamic "lifecycle_rule" {
    for_each = var.archive_versioning ? [30] : []
    content {
      condition {
        days_since_noncurrent_time = lifecycle_rule.value
        with_state                 = "ARCHIVED"
      }
      action {
        type = "Delete"
      }
    }
  }

  dynamic "retention_policy" {
    for_each = var.archive_retention_days == null ? [] : [var.archive_retention_days]
    content {
      retention_period = retention_policy.value * 86400
      is_locked        = var.archive_retention_locked
    }
  }

  dynamic "logging" {
    for_each = var.access_log_bucket == null ? [] : [var.access_log_bucket]
    content {
      log_bucket        = logging.value
      log_object_prefix = local.archive_bucket_name
    }
  }

  dynamic "encryption" {
    for_each = var.storage_kms_key_name == null ? [] : [var.storage_kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  lifecycle {
    precondition {
      condition     = var.archive_nearline_age_days == null || var.archive_coldline_age_days == null || try(var.archive_coldline_age_days > var.archive_nearline_age_days, false)
      error_message = "archive_coldline_age_days must be greater than archive_nearline_age_days."
    }
    precondition {
      condition     = var.archive_delete_age_days == null || try(var.archive_delete_age_days > max(coalesce(var.archive_nearline_age_days, 0), coalesce(var.archive_coldline_age_days, 0)), false)
      error_message = "archive_delete_age_days must be greater than the Nearline and Coldline ages."
    }
    precondition {
      condition     = !(var.archive_versioning && var.archive_retention_days != null)
      error_message = "Cloud Storage does not allow Object Versioning together with a retention policy: set archive_versioning or archive_retention_days, not both."
    }
    precondition {
      condition     = local.storage_kms_problem == ""
      error_message = local.storage_kms_problem
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62:Usage logging is a variable (access_log_bucket), off by default: it needs a second, pre-existing bucket; this bucket only holds build inputs.
  project                     = var.project_id
  name                        = local.source_bucket_name
  location                    = local.storage_location
  labels                      = local.labels
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true # holds only zips rebuilt from the repository

  versioning {
    enabled = true
  }

  # Old source zips (each named by its md5) and their noncurrent versions are rebuilt from
  # the repository on demand: keep a month for rollbacks.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 30
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  dynamic "logging" {
    for_each = var.access_log_bucket == null ? [] : [var.access_log_bucket]
    content {
      log_bucket        = logging.value
      log_object_prefix = local.source_bucket_name
    }
  }

  depends_on = [google_project_service.this]
}
