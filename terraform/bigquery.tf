# Dataset, the requests and errors tables (schemas generated from functions/schema.py by
# `python -m functions schemas`), a de-duplicating view and optional external tables over
# the archive.

resource "google_bigquery_dataset" "logs" {
  project                     = var.project_id
  dataset_id                  = var.dataset_id
  friendly_name               = "HTTP request logs"
  description                 = "HTTP request logs exported from Cloud Logging by logexport."
  location                    = var.bigquery_location
  labels                      = local.labels
  delete_contents_on_destroy  = var.dataset_delete_contents_on_destroy
  default_table_expiration_ms = var.dataset_default_table_expiration_days == null ? null : var.dataset_default_table_expiration_days * 86400000

  dynamic "default_encryption_configuration" {
    for_each = var.bigquery_kms_key_name == null ? [] : [var.bigquery_kms_key_name]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }

  lifecycle {
    precondition {
      condition     = local.bigquery_kms_problem == ""
      error_message = local.bigquery_kms_problem
    }
  }

  depends_on = [google_project_service.this]
}

resource "google_bigquery_table" "http_requests" {
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.logs.dataset_id
  table_id            = var.requests_table_id
  description         = "One row per HTTP request found in Cloud Logging entries (load balancer, Cloud Run, App Engine, GKE access lines)."
  labels              = local.labels
  deletion_protection = var.deletion_protection
  schema              = file("${path.module}/schemas/http_requests.json")

  time_partitioning {
    type          = "DAY"
    field         = "timestamp"
    expiration_ms = var.partition_expiration_days == null ? null : var.partition_expiration_days * 86400000
  }

  require_partition_filter = var.require_partition_filter
  clustering               = var.clustering_fields

  dynamic "encryption_configuration" {
    for_each = var.bigquery_kms_key_name == null ? [] : [var.bigquery_kms_key_name]
    content {
      kms_key_name = encryption_configuration.value
    }
  }

  lifecycle {
    precondition {
      condition     = length(setsubtract(var.clustering_fields, [for c in jsondecode(file("${path.module}/schemas/http_requests.json")) : c.name])) == 0
      error_message = "clustering_fields must be columns of schemas/http_requests.json."
    }
  }
}

resource "google_bigquery_table" "errors" {
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.logs.dataset_id
  table_id            = var.errors_table_id
  description         = "Messages that could not be processed: reason, stage and the raw payload."
  labels              = local.labels
  deletion_protection = var.deletion_protection
  schema              = file("${path.module}/schemas/errors.json")

  time_partitioning {
    type          = "DAY"
    field         = "error_timestamp"
    expiration_ms = var.errors_partition_expiration_days == null ? null : var.errors_partition_expiration_days * 86400000
  }

  clustering = ["reason", "stage"]

  dynamic "encryption_configuration" {
    for_each = var.bigquery_kms_key_name == null ? [] : [var.bigquery_kms_key_name]
    content {
      kms_key_name = encryption_configuration.value
    }
  }
}

# Deliveries are at-least-once, so an entry can land twice. The view keeps one row per Cloud
# Logging entry (log name, insertId, timestamp; the Pub/Sub message id when there is no
# insertId), the first published. Its SQL is generated from functions/views.py, the same text
# the local pipeline creates, and partitions its window by `timestamp` so that a filter on
# `timestamp` still prunes the table's partitions (see the comment in functions/views.py).
resource "google_bigquery_table" "http_requests_dedup" {
  #checkov:skip=CKV_GCP_80:A view stores no data, so there is nothing to encrypt; the table it reads is encrypted with var.bigquery_kms_key_name when set.
  project             = var.project_id
  dataset_id          = google_bigquery_dataset.logs.dataset_id
  table_id            = "${var.requests_table_id}_dedup"
  description         = "${var.requests_table_id} with one row per Cloud Logging entry (log name, insertId, timestamp). Filter on timestamp."
  labels              = local.labels
  deletion_protection = var.deletion_protection

  view {
    use_legacy_sql = false
    query = templatefile("${path.module}/sql/http_requests_dedup.sql", {
      requests_table = "${var.project_id}.${google_bigquery_dataset.logs.dataset_id}.${google_bigquery_table.http_requests.table_id}"
    })
  }
}

# Creating a hive-partitioned external table makes BigQuery list and validate the files under
# its source_uri_prefix, which fails over an empty prefix, and the archive bucket is created
# empty by this same apply (the provider's own acceptance tests upload an object first for
# the same reason). So each table gets one seed object: an empty gzip file, 20 bytes, zero
# rows, in a partition no LogEntry uses (dt=1970-01-01/hour=00), written with the metadata
# the archiver uses. Should a lifecycle rule delete it, the next apply puts it back.
resource "google_storage_bucket_object" "archive_seed" {
  for_each = toset(var.archive_external_table_log_ids)

  bucket           = google_storage_bucket.archive.name
  name             = "${var.archive_prefix}/${each.value}/dt=1970-01-01/hour=00/logexport-seed.ndjson.gz"
  source           = "${path.module}/seed/empty.ndjson.gz"
  content_type     = "application/x-ndjson"
  content_encoding = "gzip"
}

# External tables over the archive, one per log ID: gzip NDJSON of raw LogEntry JSON under
# {prefix}/{log_id}/dt=YYYY-MM-DD/hour=HH/. The schema lists the LogEntry fields that are
# common and stable; other fields (jsonPayload, protoPayload...) are ignored here: query
# them from Spark, or with a load job into a JSON column.
resource "google_bigquery_table" "archive" {
  #checkov:skip=CKV_GCP_80:An external table stores no data in BigQuery; the archive objects are encrypted by the bucket (Google-managed keys, or CMEK through var.storage_kms_key_name).
  for_each = toset(var.archive_external_table_log_ids)

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.logs.dataset_id
  table_id            = "archive_${replace(lower(each.value), "/[^a-z0-9_]/", "_")}"
  description         = "Raw LogEntries of log ${each.value} archived in gs://${google_storage_bucket.archive.name}/${var.archive_prefix}/${each.value}/."
  labels              = local.labels
  deletion_protection = var.deletion_protection

  external_data_configuration {
    source_format         = "NEWLINE_DELIMITED_JSON"
    compression           = "GZIP"
    autodetect            = false
    ignore_unknown_values = true
    source_uris           = ["gs://${google_storage_bucket.archive.name}/${var.archive_prefix}/${each.value}/*"]
    schema                = jsonencode(local.archive_external_schema)

    hive_partitioning_options {
      mode                     = "CUSTOM"
      source_uri_prefix        = "gs://${google_storage_bucket.archive.name}/${var.archive_prefix}/${each.value}/{dt:DATE}/{hour:INTEGER}"
      require_partition_filter = var.require_partition_filter
    }
  }

  depends_on = [google_storage_bucket_object.archive_seed]
}

locals {
  archive_external_schema = [
    { name = "logName", type = "STRING", mode = "NULLABLE" },
    { name = "insertId", type = "STRING", mode = "NULLABLE" },
    { name = "timestamp", type = "TIMESTAMP", mode = "NULLABLE" },
    { name = "receiveTimestamp", type = "TIMESTAMP", mode = "NULLABLE" },
    { name = "severity", type = "STRING", mode = "NULLABLE" },
    { name = "trace", type = "STRING", mode = "NULLABLE" },
    { name = "spanId", type = "STRING", mode = "NULLABLE" },
    { name = "textPayload", type = "STRING", mode = "NULLABLE" },
    {
      name   = "resource", type = "RECORD", mode = "NULLABLE",
      fields = [{ name = "type", type = "STRING", mode = "NULLABLE" }]
    },
    {
      name = "httpRequest", type = "RECORD", mode = "NULLABLE",
      fields = [
        { name = "requestMethod", type = "STRING", mode = "NULLABLE" },
        { name = "requestUrl", type = "STRING", mode = "NULLABLE" },
        { name = "requestSize", type = "STRING", mode = "NULLABLE" },
        { name = "status", type = "INTEGER", mode = "NULLABLE" },
        { name = "responseSize", type = "STRING", mode = "NULLABLE" },
        { name = "userAgent", type = "STRING", mode = "NULLABLE" },
        { name = "remoteIp", type = "STRING", mode = "NULLABLE" },
        { name = "serverIp", type = "STRING", mode = "NULLABLE" },
        { name = "referer", type = "STRING", mode = "NULLABLE" },
        { name = "latency", type = "STRING", mode = "NULLABLE" },
        { name = "protocol", type = "STRING", mode = "NULLABLE" },
      ]
    },
  ]
}
