# The APIs the stack needs. Enabling an API that is already on is a no-op, and
# disable_on_destroy = false keeps `terraform destroy` from switching off APIs that other
# workloads in the project may use. Every resource depends on these (directly or through
# what it references), so nothing is created before its API is on.
resource "google_project_service" "this" {
  for_each = var.enable_apis ? toset(concat(local.required_apis, local.forward_apis)) : toset([])

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# Cloud Resource Manager answers data.google_project. It has its own resource so that the
# data source waits for it alone: a data source that depends on a resource with pending
# changes is read during apply, and waiting on every API would turn the project number into
# "known after apply" (and replace the grants that use it) whenever the API list changes.
resource "google_project_service" "resource_manager" {
  count = var.enable_apis ? 1 : 0

  project            = var.project_id
  service            = "cloudresourcemanager.googleapis.com"
  disable_on_destroy = false
}

data "google_project" "this" {
  project_id = var.project_id

  depends_on = [google_project_service.resource_manager]
}
