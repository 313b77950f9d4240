# The APIs the stack needs. Enabling an API that is already on is a no-op, and
# disable_on_destroy = false keeps `terraform destroy` from switching off APIs that other
# workloads in the project may use.
resource "google_project_service" "this" {
  for_each = var.enable_apis ? toset(local.required_apis) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

data "google_project" "this" {
  project_id = var.project_id
}
