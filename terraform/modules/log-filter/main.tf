# Builds the Log Router filter. No resources: a pure function of its inputs, so it can be
# evaluated offline (tests run it with `terraform console`).

locals {
  # GKE container stdout in the chosen namespaces (nginx/Apache/Envoy access lines).
  namespace_clause  = join(" OR ", [for ns in var.gke_namespaces : "resource.labels.namespace_name=\"${ns}\""])
  gke_stdout_filter = length(var.gke_namespaces) == 0 ? "" : "(resource.type=\"k8s_container\" AND log_id(\"stdout\") AND (${local.namespace_clause}))"

  # Load balancers, Cloud CDN, Cloud Run, App Engine, Cloud Functions gen2 carry the
  # httpRequest field; App Engine's RequestLog protoPayload may carry the request without it.
  default_filter = join(" OR ", compact([
    "httpRequest:*",
    "protoPayload.@type=\"type.googleapis.com/google.appengine.logging.v1.RequestLog\"",
    local.gke_stdout_filter,
  ]))

  base_filter = coalesce(var.log_filter, local.default_filter)

  # This stack's own logs, ALWAYS excluded to prevent a feedback loop: gen2 functions log as
  # Cloud Run revisions (and Cloud Run writes a request log, with httpRequest, for every
  # push to ingest and every scheduler call to drain) and as cloud_function; the functions'
  # own structured logs carry the self_log_label label.
  service_clause  = join(" OR ", [for name in var.excluded_function_names : "resource.labels.service_name=\"${name}\""])
  function_clause = join(" OR ", [for name in var.excluded_function_names : "resource.labels.function_name=\"${name}\""])
  self_exclusion = join(" OR ", [
    "(resource.type=\"cloud_run_revision\" AND (${local.service_clause}))",
    "(resource.type=\"cloud_function\" AND (${local.function_clause}))",
    "labels.${var.self_log_label}:*",
  ])

  effective_filter = "(${local.base_filter}) AND NOT (${local.self_exclusion})"
}
