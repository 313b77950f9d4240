# The report's questions: one BigQuery table function per file in sql/report/, each taking
# the time range [since, until) and filtering the partitioning column by it, so a query
# reads only those days. The Grafana dashboard (grafana/dashboards/) and
# `python -m functions report` call them unchanged.

locals {
  report_functions = toset([for f in fileset("${path.module}/sql/report", "*.sql") : trimsuffix(f, ".sql")])
}

resource "google_bigquery_routine" "report" {
  for_each = local.report_functions

  project      = var.project_id
  dataset_id   = google_bigquery_dataset.logs.dataset_id
  routine_id   = each.value
  routine_type = "TABLE_VALUED_FUNCTION"
  language     = "SQL"
  description  = "logexport report: ${each.value} over [since, until) (terraform/sql/report/${each.value}.sql)."
  definition_body = templatefile("${path.module}/sql/report/${each.value}.sql", {
    project       = var.project_id
    dataset       = google_bigquery_dataset.logs.dataset_id
    requests_view = google_bigquery_table.http_requests_dedup.table_id
    errors_table  = google_bigquery_table.errors.table_id
  })

  arguments {
    name      = "since"
    data_type = jsonencode({ typeKind = "TIMESTAMP" })
  }
  arguments {
    name      = "until"
    data_type = jsonencode({ typeKind = "TIMESTAMP" })
  }
}

# Read access for dashboards (the Grafana BigQuery plugin's identity, people running the
# report): dataViewer on this dataset only, and jobUser on the project to run queries.
resource "google_bigquery_dataset_iam_member" "report_readers" {
  for_each = toset(var.report_readers)

  project    = var.project_id
  dataset_id = google_bigquery_dataset.logs.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = each.value
}

resource "google_project_iam_member" "report_readers_jobs" {
  for_each = toset(var.report_readers)

  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = each.value

  depends_on = [google_project_service.this]
}
