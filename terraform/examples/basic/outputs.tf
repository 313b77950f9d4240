output "effective_log_filter" {
  description = "Filter the sink uses (with this stack's own logs excluded)."
  value       = module.logexport.effective_log_filter
}

output "http_requests_table" {
  description = "Table to query."
  value       = module.logexport.http_requests_table
}

output "archive_uri_prefix" {
  description = "Where every LogEntry is archived."
  value       = module.logexport.archive_uri_prefix
}

output "dead_letter_subscription_ids" {
  description = "Where undeliverable messages wait for inspection."
  value       = module.logexport.dead_letter_subscription_ids
}
