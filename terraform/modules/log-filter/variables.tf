variable "log_filter" {
  description = "Filter selecting what is exported. Null builds the default: entries with httpRequest, App Engine request logs, and stdout of GKE containers in gke_namespaces."
  type        = string
  default     = null

  validation {
    condition     = var.log_filter == null || try(length(trimspace(var.log_filter)) > 0, false)
    error_message = "log_filter must be null (default filter) or a non-empty Logging query."
  }
}

variable "gke_namespaces" {
  description = "Kubernetes namespaces whose container stdout the default filter exports."
  type        = list(string)
  default     = ["default"]

  validation {
    condition     = alltrue([for ns in var.gke_namespaces : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", ns))])
    error_message = "gke_namespaces must hold Kubernetes namespace names (RFC 1123 labels)."
  }
}

variable "excluded_function_names" {
  description = "Names of the functions (and their Cloud Run services) whose logs are always excluded."
  type        = list(string)

  validation {
    condition     = length(var.excluded_function_names) > 0 && alltrue([for n in var.excluded_function_names : can(regex("^[a-z][a-z0-9-]*$", n))])
    error_message = "excluded_function_names must list at least one function name (lowercase letters, digits, hyphens)."
  }
}

variable "self_log_label" {
  description = "LogEntry label key the functions put on their own structured logs; entries carrying it are always excluded."
  type        = string
  default     = "logexport_component"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_]*$", var.self_log_label))
    error_message = "self_log_label must be a plain label key."
  }
}
