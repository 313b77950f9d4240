# The whole stack in one project: a project-level sink exporting load balancer / Cloud Run
# request logs and the nginx stdout of two GKE namespaces.

provider "google" {
  project = var.project_id
  region  = var.region
}

# The module creates the Pub/Sub service agent with google-beta (see ../../pubsub.tf).
provider "google-beta" {
  project = var.project_id
  region  = var.region
}

module "logexport" {
  source = "../.."

  project_id     = var.project_id
  region         = var.region
  gke_namespaces = ["blog", "ingress-nginx"]

  # Rows every minute from a scheduled batch drain, the cheapest mode; "both" adds a push
  # consumer that writes each row within seconds, for 5 to 20 times the cost (README: cost).
  mode = "batch"

  # Drop health checks before they reach Pub/Sub.
  sink_exclusions = [
    {
      name        = "health-checks"
      description = "Load balancer and kube-probe health checks"
      filter      = "httpRequest.userAgent:\"GoogleHC\" OR httpRequest.userAgent:\"kube-probe\""
    },
  ]

  bigquery_location         = "EU"
  partition_expiration_days = 400
  require_partition_filter  = true

  archive_nearline_age_days      = 30
  archive_coldline_age_days      = 90
  archive_delete_age_days        = 1095
  archive_external_table_log_ids = ["requests", "stdout"]

  labels = { env = "prod", team = "blog" }
}
