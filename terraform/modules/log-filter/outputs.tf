output "filter" {
  description = "The effective filter: the chosen (or default) filter AND NOT the excluded functions' own logs."
  value       = local.effective_filter
}

output "base_filter" {
  description = "The chosen (or default) filter, before the self-exclusion is appended."
  value       = local.base_filter
}

output "self_exclusion" {
  description = "The clause matching the excluded functions' own logs."
  value       = local.self_exclusion
}
