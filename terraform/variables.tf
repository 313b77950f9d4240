# ---------------------------------------------------------------------------------------
# Project and naming
# ---------------------------------------------------------------------------------------

variable "project_id" {
  description = "ID of the project that hosts the stack (topic, functions, dataset, buckets). For a project-level sink it is also the project whose logs are exported."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a project ID (6-30 characters: lowercase letters, digits, hyphens), not a project number or name."
  }
}

variable "region" {
  description = "Region of the functions, the Cloud Scheduler job and (unless storage_location is set) the buckets."
  type        = string
  default     = "europe-west1"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Cloud region such as europe-west1 or us-central1."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name (functions, service accounts, topics, sink, scheduler job). Keep it short: service account IDs are limited to 30 characters."
  type        = string
  default     = "logexport"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,20}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 2-22 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen."
  }
}

variable "labels" {
  description = "Labels applied to every resource that supports them."
  type        = map(string)
  default     = {}
}

variable "enable_apis" {
  description = "Enable the APIs the stack needs (artifactregistry, bigquery, bigquerystorage, cloudbuild, cloudfunctions, cloudresourcemanager, cloudscheduler, iam, logging, pubsub, run, serviceusage, storage). Set to false when the project factory manages APIs."
  type        = bool
  default     = true
}

# One key per service: a key must sit in a location the resource accepts (BigQuery: the
# dataset's location; Cloud Storage: the bucket's), so one key cannot serve a dataset in EU
# and a bucket in europe-west1. locations.tf checks the locations at plan time.

variable "pubsub_kms_key_name" {
  description = "Optional Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) encrypting the topics (CMEK). Any key location works. Null: Google-managed encryption. The Pub/Sub service agent service-<project number>@gcp-sa-pubsub.iam.gserviceaccount.com needs roles/cloudkms.cryptoKeyEncrypterDecrypter on the key before the first apply (see README, First apply)."
  type        = string
  default     = null

  validation {
    condition     = var.pubsub_kms_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.pubsub_kms_key_name))
    error_message = "pubsub_kms_key_name must be a full key name: projects/P/locations/L/keyRings/R/cryptoKeys/K (not a key ring, and not a key version)."
  }
}

variable "bigquery_kms_key_name" {
  description = "Optional Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) encrypting the dataset's tables (CMEK). Its location must match bigquery_location: europe for EU, us for US, the same region for a regional dataset (or global). Null: Google-managed encryption. The BigQuery service agent bq-<project number>@bigquery-encryption.iam.gserviceaccount.com needs roles/cloudkms.cryptoKeyEncrypterDecrypter on the key before the first apply."
  type        = string
  default     = null

  validation {
    condition     = var.bigquery_kms_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.bigquery_kms_key_name))
    error_message = "bigquery_kms_key_name must be a full key name: projects/P/locations/L/keyRings/R/cryptoKeys/K (not a key ring, and not a key version)."
  }
}

variable "storage_kms_key_name" {
  description = "Optional Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) encrypting the archive bucket's objects (CMEK). Its location must match the buckets' (storage_location, else region): the same region for a regional bucket, europe/us/asia for EU/US/ASIA. Null: Google-managed encryption. The Cloud Storage service agent service-<project number>@gs-project-accounts.iam.gserviceaccount.com needs roles/cloudkms.cryptoKeyEncrypterDecrypter on the key before the first apply."
  type        = string
  default     = null

  validation {
    condition     = var.storage_kms_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.storage_kms_key_name))
    error_message = "storage_kms_key_name must be a full key name: projects/P/locations/L/keyRings/R/cryptoKeys/K (not a key ring, and not a key version)."
  }
}

# ---------------------------------------------------------------------------------------
# Log Router sink
# ---------------------------------------------------------------------------------------

variable "sink_scope" {
  description = "Where the Log Router sink lives: \"project\" (logs of project_id only), \"folder\" or \"organization\" (an aggregated sink over sink_parent_id)."
  type        = string
  default     = "project"

  validation {
    condition     = contains(["project", "folder", "organization"], var.sink_scope)
    error_message = "sink_scope must be one of project, folder, organization."
  }
}

variable "sink_parent_id" {
  description = "Numeric folder ID (sink_scope = \"folder\") or organization ID (sink_scope = \"organization\"). Ignored for a project sink."
  type        = string
  default     = null

  validation {
    condition     = var.sink_parent_id == null || can(regex("^[0-9]+$", var.sink_parent_id))
    error_message = "sink_parent_id must be the numeric folder or organization ID (without the folders/ or organizations/ prefix)."
  }
}

variable "sink_include_children" {
  description = "For folder and organization sinks: also export the logs of every project below the parent."
  type        = bool
  default     = true
}

variable "log_filter" {
  description = "Log Router filter selecting what is exported. Null builds the default: entries with httpRequest, App Engine request logs, and stdout of GKE containers in gke_namespaces. The exclusion of this stack's own logs is ALWAYS appended (see the effective_log_filter output); it cannot be removed through this variable."
  type        = string
  default     = null

  validation {
    condition     = var.log_filter == null || try(length(trimspace(var.log_filter)) > 0, false)
    error_message = "log_filter must be null (default filter) or a non-empty Logging query."
  }
}

variable "gke_namespaces" {
  description = "Kubernetes namespaces whose container stdout (access logs of nginx, Apache, Envoy...) the default filter exports. Empty: no container logs, only entries with httpRequest."
  type        = list(string)
  default     = ["default"]

  validation {
    condition     = alltrue([for ns in var.gke_namespaces : can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", ns))])
    error_message = "gke_namespaces must hold Kubernetes namespace names (RFC 1123 labels)."
  }
}

variable "sink_exclusions" {
  description = "Exclusion filters of the sink: entries matching any enabled exclusion are not exported."
  type = list(object({
    name        = string
    filter      = string
    description = optional(string)
    disabled    = optional(bool, false)
  }))
  default = []

  validation {
    condition     = alltrue([for e in var.sink_exclusions : can(regex("^[A-Za-z0-9_.-]{1,100}$", e.name)) && length(trimspace(e.filter)) > 0])
    error_message = "Each exclusion needs a name of 1-100 letters, digits, _ . - and a non-empty filter."
  }
}

# ---------------------------------------------------------------------------------------
# Pub/Sub
# ---------------------------------------------------------------------------------------

variable "topic_message_retention_duration" {
  description = "How long the log topic keeps published messages (allows seeking a subscription back in time). Seconds with an s suffix, 600s to 2678400s (31 days)."
  type        = string
  default     = "86400s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.topic_message_retention_duration)) && try(tonumber(trimsuffix(var.topic_message_retention_duration, "s")) >= 600 && tonumber(trimsuffix(var.topic_message_retention_duration, "s")) <= 2678400, false)
    error_message = "topic_message_retention_duration must be between 600s and 2678400s, written like \"86400s\"."
  }
}

variable "subscription_message_retention_duration" {
  description = "How long the ingest and drain subscriptions keep unacknowledged messages (600s to 2678400s)."
  type        = string
  default     = "604800s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.subscription_message_retention_duration)) && try(tonumber(trimsuffix(var.subscription_message_retention_duration, "s")) >= 600 && tonumber(trimsuffix(var.subscription_message_retention_duration, "s")) <= 2678400, false)
    error_message = "subscription_message_retention_duration must be between 600s and 2678400s."
  }
}

variable "dead_letter_retention_duration" {
  description = "How long the dead-letter subscriptions keep dead letters for inspection and replay (600s to 2678400s)."
  type        = string
  default     = "2678400s"

  validation {
    condition     = can(regex("^[0-9]+s$", var.dead_letter_retention_duration)) && try(tonumber(trimsuffix(var.dead_letter_retention_duration, "s")) >= 600 && tonumber(trimsuffix(var.dead_letter_retention_duration, "s")) <= 2678400, false)
    error_message = "dead_letter_retention_duration must be between 600s and 2678400s."
  }
}

variable "ack_deadline_seconds" {
  description = "Ack deadline of the ingest (push) and drain (pull) subscriptions. For push it is how long Pub/Sub waits for the function's HTTP response; keep it above ingest_timeout_seconds."
  type        = number
  default     = 120

  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries of a message before Pub/Sub moves it to the dead-letter topic."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub limits)."
  }
}

variable "retry_minimum_backoff" {
  description = "Minimum delay before Pub/Sub redelivers a nacked or failed message (0s-600s)."
  type        = string
  default     = "10s"

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?s$", var.retry_minimum_backoff))
    error_message = "retry_minimum_backoff must be a duration in seconds such as \"10s\"."
  }
}

variable "retry_maximum_backoff" {
  description = "Maximum delay before Pub/Sub redelivers a nacked or failed message (0s-600s)."
  type        = string
  default     = "600s"

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?s$", var.retry_maximum_backoff))
    error_message = "retry_maximum_backoff must be a duration in seconds such as \"600s\"."
  }
}

variable "grant_token_creator_to_pubsub_agent" {
  description = "Grant the Pub/Sub service agent roles/iam.serviceAccountTokenCreator on the push service account only. Required for OIDC push on projects created before 2021-04-08; harmless (scoped to that one account) on newer ones."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------
# BigQuery
# ---------------------------------------------------------------------------------------

variable "dataset_id" {
  description = "BigQuery dataset holding the tables (BIGQUERY_DATASET)."
  type        = string
  default     = "logs"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]+$", var.dataset_id)) && length(var.dataset_id) <= 1024
    error_message = "dataset_id must be 1-1024 letters, digits and underscores."
  }
}

variable "bigquery_location" {
  description = "Location of the dataset (multi-region such as EU or US, or a region such as europe-west1)."
  type        = string
  default     = "EU"
}

variable "dataset_default_table_expiration_days" {
  description = "Optional default lifetime of new tables in the dataset, in days. Null: tables do not expire."
  type        = number
  default     = null

  validation {
    condition     = var.dataset_default_table_expiration_days == null || try(var.dataset_default_table_expiration_days >= 1, false)
    error_message = "dataset_default_table_expiration_days must be null or at least 1."
  }
}

variable "requests_table_id" {
  description = "Table of HTTP requests, one row per request (BIGQUERY_TABLE)."
  type        = string
  default     = "http_requests"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]+$", var.requests_table_id)) && length(var.requests_table_id) <= 1024
    error_message = "requests_table_id must be 1-1024 letters, digits and underscores."
  }
}

variable "errors_table_id" {
  description = "Table of messages that could not be processed, one row per message (BIGQUERY_ERROR_TABLE)."
  type        = string
  default     = "errors"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]+$", var.errors_table_id)) && length(var.errors_table_id) <= 1024
    error_message = "errors_table_id must be 1-1024 letters, digits and underscores."
  }
}

variable "clustering_fields" {
  description = "Clustering columns of the requests table (at most 4, columns of schemas/http_requests.json)."
  type        = list(string)
  default     = ["host", "status"]

  validation {
    condition     = length(var.clustering_fields) >= 1 && length(var.clustering_fields) <= 4
    error_message = "clustering_fields must list 1 to 4 columns."
  }
}

variable "partition_expiration_days" {
  description = "Days a partition of the requests table is kept. Null: forever."
  type        = number
  default     = null

  validation {
    condition     = var.partition_expiration_days == null || try(var.partition_expiration_days >= 1, false)
    error_message = "partition_expiration_days must be null or at least 1."
  }
}

variable "errors_partition_expiration_days" {
  description = "Days a partition of the errors table is kept. Null: forever."
  type        = number
  default     = 90

  validation {
    condition     = var.errors_partition_expiration_days == null || try(var.errors_partition_expiration_days >= 1, false)
    error_message = "errors_partition_expiration_days must be null or at least 1."
  }
}

variable "require_partition_filter" {
  description = "Reject queries on the requests table (and the archive external tables) that do not filter on the partition column."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Terraform refuses to destroy the BigQuery tables while this is true."
  type        = bool
  default     = true
}

variable "dataset_delete_contents_on_destroy" {
  description = "Allow `terraform destroy` to delete the dataset even when it holds tables."
  type        = bool
  default     = false
}

variable "report_readers" {
  description = "Members (\"serviceAccount:grafana@P.iam.gserviceaccount.com\", \"group:sre@example.com\") who read the dashboards and the report: roles/bigquery.dataViewer on the dataset and roles/bigquery.jobUser on the project."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.report_readers : can(regex("^(serviceAccount|user|group|domain|principal|principalSet):", m))])
    error_message = "report_readers must be IAM members such as serviceAccount:grafana@my-project.iam.gserviceaccount.com."
  }
}

variable "archive_external_table_log_ids" {
  description = "Log IDs (directory names under {archive_prefix}/ in the archive, e.g. \"requests\", \"stdout\") that get a BigQuery external table with hive partitions dt (DATE) and hour (INTEGER). Empty: no external table."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.archive_external_table_log_ids : length(id) > 0 && !strcontains(id, "/")])
    error_message = "archive_external_table_log_ids must be non-empty log IDs without slashes."
  }
}

# ---------------------------------------------------------------------------------------
# Cloud Storage
# ---------------------------------------------------------------------------------------

variable "storage_location" {
  description = "Location of the buckets. Null: the function region (keeps egress local)."
  type        = string
  default     = null
}

variable "archive_bucket_name" {
  description = "Name of the archive bucket. Null: <project_id>-<name_prefix>-archive."
  type        = string
  default     = null

  validation {
    condition     = var.archive_bucket_name == null || can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.archive_bucket_name))
    error_message = "archive_bucket_name must be a valid bucket name (3-63 characters: lowercase letters, digits, - _ .)."
  }
}

variable "archive_prefix" {
  description = "Object prefix of the archive (ARCHIVE_PREFIX): objects are {prefix}/{log_id}/dt=YYYY-MM-DD/hour=HH/{name}.ndjson.gz."
  type        = string
  default     = "logs"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.=-]+(/[A-Za-z0-9_.=-]+)*$", var.archive_prefix))
    error_message = "archive_prefix must be a relative path without leading or trailing slash."
  }
}

variable "archive_nearline_age_days" {
  description = "Age in days at which archive objects move to NEARLINE. Null: never."
  type        = number
  default     = 30

  validation {
    condition     = var.archive_nearline_age_days == null || try(var.archive_nearline_age_days >= 1, false)
    error_message = "archive_nearline_age_days must be null or at least 1."
  }
}

variable "archive_coldline_age_days" {
  description = "Age in days at which archive objects move to COLDLINE. Null: never. Must exceed archive_nearline_age_days."
  type        = number
  default     = 90

  validation {
    condition     = var.archive_coldline_age_days == null || try(var.archive_coldline_age_days >= 1, false)
    error_message = "archive_coldline_age_days must be null or at least 1."
  }
}

variable "archive_delete_age_days" {
  description = "Age in days at which archive objects are deleted. Null: never."
  type        = number
  default     = 730

  validation {
    condition     = var.archive_delete_age_days == null || try(var.archive_delete_age_days >= 1, false)
    error_message = "archive_delete_age_days must be null or at least 1."
  }
}

variable "archive_retention_days" {
  description = "Optional bucket retention policy: objects cannot be deleted or replaced before this many days. Null: no retention policy. Incompatible with archive_versioning."
  type        = number
  default     = null

  validation {
    condition     = var.archive_retention_days == null || try(var.archive_retention_days >= 1 && var.archive_retention_days <= 36500, false)
    error_message = "archive_retention_days must be null or between 1 and 36500."
  }
}

variable "archive_retention_locked" {
  description = "Lock the retention policy. IRREVERSIBLE: a locked policy can never be shortened or removed, and the bucket cannot be deleted until every object has aged out."
  type        = bool
  default     = false
}

variable "archive_versioning" {
  description = "Enable Object Versioning on the archive bucket. Off by default: archive objects are written once (if_generation_match=0) and never replaced, so versions only add cost; use archive_retention_days for tamper resistance."
  type        = bool
  default     = false
}

variable "access_log_bucket" {
  description = "Optional bucket that receives Cloud Storage usage logs of the archive and source buckets. Null: no usage logs (Cloud Audit Logs still record access)."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the buckets with their objects. Keep false in production."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------

variable "runtime" {
  description = "Python runtime of the functions."
  type        = string
  default     = "python312"

  validation {
    condition     = contains(["python311", "python312"], var.runtime)
    error_message = "runtime must be python311 or python312."
  }
}

variable "source_root" {
  description = "Directory holding main.py, requirements.txt, functions/ and sinks/. Null: the repository root (the parent of this module)."
  type        = string
  default     = null
}

variable "build_service_account" {
  description = "Optional existing service account Cloud Build builds the functions as (projects/P/serviceAccounts/EMAIL). Null: the module creates <name_prefix>-build. Either way the module grants it what a build needs: roles/logging.logWriter on the project, roles/artifactregistry.writer on the module's image repository, read access to the source bucket and Storage Object Admin on Cloud Functions' gcf-v2-sources-* buckets only. The project's default build account is never used: on projects created after July 2024 it may lack the roles a build needs."
  type        = string
  default     = null

  validation {
    condition     = var.build_service_account == null || can(regex("^projects/[^/]+/serviceAccounts/[^/]+@[^/]+$", var.build_service_account))
    error_message = "build_service_account must be projects/PROJECT/serviceAccounts/EMAIL."
  }
}

variable "ingress_settings" {
  description = "Who may reach the functions over the network. ALLOW_INTERNAL_ONLY still accepts Pub/Sub push and Cloud Scheduler from the same project; IAM (run.invoker) is enforced in every mode."
  type        = string
  default     = "ALLOW_INTERNAL_ONLY"

  validation {
    condition     = contains(["ALLOW_ALL", "ALLOW_INTERNAL_ONLY", "ALLOW_INTERNAL_AND_GCLB"], var.ingress_settings)
    error_message = "ingress_settings must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB."
  }
}

variable "bigquery_write_method" {
  description = "How the functions write rows (BIGQUERY_WRITE_METHOD): storage_write (Storage Write API) or insert_all (legacy streaming inserts)."
  type        = string
  default     = "storage_write"

  validation {
    condition     = contains(["storage_write", "insert_all"], var.bigquery_write_method)
    error_message = "bigquery_write_method must be storage_write or insert_all."
  }
}

variable "ingest_max_instances" {
  description = "Maximum instances of the ingest function."
  type        = number
  default     = 10

  validation {
    condition     = var.ingest_max_instances >= 1 && var.ingest_max_instances <= 1000
    error_message = "ingest_max_instances must be between 1 and 1000."
  }
}

variable "ingest_min_instances" {
  description = "Minimum (always warm) instances of the ingest function."
  type        = number
  default     = 0

  validation {
    condition     = var.ingest_min_instances >= 0 && var.ingest_min_instances <= 100
    error_message = "ingest_min_instances must be between 0 and 100."
  }
}

variable "ingest_concurrency" {
  description = "Concurrent requests per ingest instance (max_instance_request_concurrency). Above 1 needs at least 1 vCPU (ingest_cpu)."
  type        = number
  default     = 16

  validation {
    condition     = var.ingest_concurrency >= 1 && var.ingest_concurrency <= 1000
    error_message = "ingest_concurrency must be between 1 and 1000."
  }
}

variable "ingest_memory" {
  description = "Memory of an ingest instance (e.g. 256M, 512M, 1Gi)."
  type        = string
  default     = "512M"

  validation {
    condition     = can(regex("^[0-9]+(M|Mi|G|Gi)$", var.ingest_memory))
    error_message = "ingest_memory must look like 512M or 1Gi."
  }
}

variable "ingest_cpu" {
  description = "vCPUs of an ingest instance (\"1\", \"2\", ...)."
  type        = string
  default     = "1"
}

variable "ingest_timeout_seconds" {
  description = "Request timeout of the ingest function."
  type        = number
  default     = 60

  validation {
    condition     = var.ingest_timeout_seconds >= 1 && var.ingest_timeout_seconds <= 540
    error_message = "ingest_timeout_seconds must be between 1 and 540."
  }
}

variable "drain_max_instances" {
  description = "Maximum instances of the drain function (1 is enough: each run drains for DRAIN_BUDGET_SECONDS)."
  type        = number
  default     = 1

  validation {
    condition     = var.drain_max_instances >= 1 && var.drain_max_instances <= 100
    error_message = "drain_max_instances must be between 1 and 100."
  }
}

variable "drain_min_instances" {
  description = "Minimum instances of the drain function."
  type        = number
  default     = 0

  validation {
    condition     = var.drain_min_instances >= 0 && var.drain_min_instances <= 10
    error_message = "drain_min_instances must be between 0 and 10."
  }
}

variable "drain_concurrency" {
  description = "Concurrent requests per drain instance. 1: one drain run per instance."
  type        = number
  default     = 1

  validation {
    condition     = var.drain_concurrency >= 1 && var.drain_concurrency <= 1000
    error_message = "drain_concurrency must be between 1 and 1000."
  }
}

variable "drain_memory" {
  description = "Memory of a drain instance."
  type        = string
  default     = "1Gi"

  validation {
    condition     = can(regex("^[0-9]+(M|Mi|G|Gi)$", var.drain_memory))
    error_message = "drain_memory must look like 512M or 1Gi."
  }
}

variable "drain_cpu" {
  description = "vCPUs of a drain instance."
  type        = string
  default     = "1"
}

variable "drain_timeout_seconds" {
  description = "Request timeout of the drain function; must exceed drain_budget_seconds."
  type        = number
  default     = 300

  validation {
    condition     = var.drain_timeout_seconds >= 10 && var.drain_timeout_seconds <= 1780
    error_message = "drain_timeout_seconds must be between 10 and 1780 (Cloud Scheduler waits at most 30 minutes for an HTTP target)."
  }
}

variable "drain_batch_size" {
  description = "Messages pulled per batch by drain (DRAIN_BATCH_SIZE, 1-1000)."
  type        = number
  default     = 1000

  validation {
    condition     = var.drain_batch_size >= 1 && var.drain_batch_size <= 1000
    error_message = "drain_batch_size must be between 1 and 1000."
  }
}

variable "drain_budget_seconds" {
  description = "Seconds a drain run keeps pulling before it returns (DRAIN_BUDGET_SECONDS). With one last batch after it, it must fit in drain_timeout_seconds (checked at plan time)."
  type        = number
  default     = 200

  validation {
    condition     = var.drain_budget_seconds > 0
    error_message = "drain_budget_seconds must be positive."
  }
}

variable "mode" {
  description = "How exported entries are processed. \"batch\" (the default, cheapest): Cloud Scheduler calls drain every drain_schedule; drain pulls up to drain_batch_size messages at a time and writes the rows and the archive, one append per table and one object per (log, hour) per batch; rows within about a minute; no push subscription, no ingest function. \"push\": Pub/Sub pushes each message to ingest, which writes its row within seconds; one function request per message; no drain, no scheduler, and no archive unless ingest_write_archive. \"both\": ingest writes rows within seconds and drain archives every drain_schedule."
  type        = string
  default     = "batch"

  validation {
    condition     = contains(["batch", "push", "both"], var.mode)
    error_message = "mode must be batch, push or both."
  }
}

variable "drain_write_bigquery" {
  description = "In mode both, whether drain also writes request rows to BigQuery (DRAIN_WRITE_BIGQUERY), besides ingest. In batch mode drain always writes them; in push mode there is no drain."
  type        = bool
  default     = false
}

variable "ingest_write_archive" {
  description = "Whether ingest also archives each message to Cloud Storage (INGEST_WRITE_ARCHIVE). False by default: one object per pushed message is costly, and drain archives everything in batches. Only when true does ingest get objectCreator on the archive bucket."
  type        = bool
  default     = false
}

variable "ingest_batch_wait_ms" {
  description = "How long ingest gathers concurrent requests on one instance into one BigQuery append (INGEST_BATCH_WAIT_MS), in milliseconds; each request still returns only after its own row is stored. 0 writes each message alone."
  type        = number
  default     = 20

  validation {
    condition     = var.ingest_batch_wait_ms >= 0 && var.ingest_batch_wait_ms <= 1000 && floor(var.ingest_batch_wait_ms) == var.ingest_batch_wait_ms
    error_message = "ingest_batch_wait_ms must be a whole number of milliseconds between 0 and 1000."
  }
}

variable "drain_schedule" {
  description = "Cron schedule of the Cloud Scheduler job that calls drain (modes batch and both): how long rows (batch) and archive objects wait at most. Every minute by default; each run is one function request, and one archive object per (log, hour) at least."
  type        = string
  default     = "* * * * *"

  validation {
    condition     = length(split(" ", trimspace(var.drain_schedule))) == 5
    error_message = "drain_schedule must be a 5-field cron expression such as \"*/5 * * * *\"."
  }
}

variable "scheduler_time_zone" {
  description = "Time zone of drain_schedule (tz database name)."
  type        = string
  default     = "Etc/UTC"
}

# ---------------------------------------------------------------------------------------
# Forwarding to syslog (Papertrail, rsyslog / syslog-ng relays): off unless a destination is given
# ---------------------------------------------------------------------------------------

variable "forward_destination" {
  description = "Where forward sends logs: syslog+tls://host:port (e.g. Papertrail's logsN.papertrailapp.com and your port), or syslog+tcp://host:port for a relay on a private network. Stored in a Secret Manager secret this module creates (the value is in the Terraform state; use forward_destination_secret to keep it out). Null, with forward_destination_secret null too: no forwarding."
  type        = string
  default     = null
  sensitive   = true

  validation {
    condition     = var.forward_destination == null || can(regex("^syslog\\+(tls|tcp)://[^/?#@\\s]+$", var.forward_destination))
    error_message = "forward_destination must look like syslog+tls://host:port (or syslog+tcp://host:port)."
  }
}

variable "forward_destination_secret" {
  description = "Instead of forward_destination: an existing Secret Manager secret (projects/P/secrets/S) whose latest version holds the destination. The module only grants forward read access to it."
  type        = string
  default     = null

  validation {
    condition     = var.forward_destination_secret == null || can(regex("^projects/[^/]+/secrets/[^/]+$", var.forward_destination_secret))
    error_message = "forward_destination_secret must be projects/PROJECT/secrets/NAME."
  }
}

variable "forward_ca_secret" {
  description = "Optional Secret Manager secret (projects/P/secrets/S) holding a PEM CA bundle for a private relay: forward then trusts only it (FORWARD_CA_FILE). Null: the system CAs, as for Papertrail."
  type        = string
  default     = null

  validation {
    condition     = var.forward_ca_secret == null || can(regex("^projects/[^/]+/secrets/[^/]+$", var.forward_ca_secret))
    error_message = "forward_ca_secret must be projects/PROJECT/secrets/NAME."
  }
}

variable "forward_log_filter" {
  description = "Log Router filter of the forward sink. Null: resource.type=\"k8s_container\" OR severity>=WARNING (the cluster's container logs, and warnings and above from anything). The exclusion of this stack's own logs is always appended."
  type        = string
  default     = null

  validation {
    condition     = var.forward_log_filter == null || try(length(trimspace(var.forward_log_filter)) > 0, false)
    error_message = "forward_log_filter must be null (default filter) or a non-empty Logging query."
  }
}

variable "forward_framing" {
  description = "Syslog framing on the TCP stream (FORWARD_FRAMING): octet-counting (RFC 5425, keeps multi-line messages whole) or newline (line feeds inside a message are sent as #012)."
  type        = string
  default     = "octet-counting"

  validation {
    condition     = contains(["octet-counting", "newline"], var.forward_framing)
    error_message = "forward_framing must be octet-counting or newline."
  }
}

variable "forward_facility" {
  description = "Syslog facility of every forwarded message (FORWARD_FACILITY): a name (user, daemon, local0...local7) or 0-23."
  type        = string
  default     = "user"

  validation {
    condition     = can(regex("^(kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|ntp|audit|alert|clock|local[0-7]|[0-9]|1[0-9]|2[0-3])$", var.forward_facility))
    error_message = "forward_facility must be a syslog facility name or a number from 0 to 23."
  }
}

variable "forward_max_message_bytes" {
  description = "Longest syslog message forward sends, in bytes (FORWARD_MAX_MESSAGE_BYTES); longer messages are cut with a marker. Papertrail accepts 100,000 over TCP."
  type        = number
  default     = 100000

  validation {
    condition     = var.forward_max_message_bytes >= 2048 && var.forward_max_message_bytes <= 1048576
    error_message = "forward_max_message_bytes must be between 2048 and 1048576."
  }
}

variable "forward_batch_size" {
  description = "Messages pulled, and sent over one TLS connection, per batch (FORWARD_BATCH_SIZE, 1-1000)."
  type        = number
  default     = 1000

  validation {
    condition     = var.forward_batch_size >= 1 && var.forward_batch_size <= 1000
    error_message = "forward_batch_size must be between 1 and 1000."
  }
}

variable "forward_budget_seconds" {
  description = "Seconds a forward run keeps pulling before it returns (FORWARD_BUDGET_SECONDS); keep it below the schedule's interval so runs do not overlap."
  type        = number
  default     = 50

  validation {
    condition     = var.forward_budget_seconds > 0
    error_message = "forward_budget_seconds must be positive."
  }
}

variable "forward_linger_seconds" {
  description = "How long a forward run keeps waiting for new messages once its subscription is empty (FORWARD_LINGER_SECONDS). 0: stop at the first empty pull (latency up to the schedule's interval, cheapest). Close to forward_budget_seconds: an instance tails the subscription almost all the time (seconds of latency, billed while it waits)."
  type        = number
  default     = 0

  validation {
    condition     = var.forward_linger_seconds >= 0
    error_message = "forward_linger_seconds must be zero or more."
  }
}

variable "forward_schedule" {
  description = "Cron schedule of the Cloud Scheduler job that calls forward (every minute is Cloud Scheduler's finest)."
  type        = string
  default     = "* * * * *"

  validation {
    condition     = length(split(" ", trimspace(var.forward_schedule))) == 5
    error_message = "forward_schedule must be a 5-field cron expression such as \"* * * * *\"."
  }
}

variable "forward_timeout_seconds" {
  description = "Request timeout of the forward function; at least forward_budget_seconds + 30."
  type        = number
  default     = 90

  validation {
    condition     = var.forward_timeout_seconds >= 40 && var.forward_timeout_seconds <= 1780
    error_message = "forward_timeout_seconds must be between 40 and 1780."
  }
}

variable "forward_send_timeout_seconds" {
  description = "Connect, TLS handshake and write timeout of forward's syslog connection, and the longest wait for the receiver's TCP acknowledgement (FORWARD_SEND_TIMEOUT_SECONDS)."
  type        = number
  default     = 10

  validation {
    condition     = var.forward_send_timeout_seconds > 0 && var.forward_send_timeout_seconds <= 60
    error_message = "forward_send_timeout_seconds must be between 0 (exclusive) and 60."
  }
}

variable "forward_memory" {
  description = "Memory of the forward instance."
  type        = string
  default     = "512M"

  validation {
    condition     = can(regex("^[0-9]+(M|Mi|G|Gi)$", var.forward_memory))
    error_message = "forward_memory must look like 512M or 1Gi."
  }
}

variable "write_budget_seconds" {
  description = "How long one write to BigQuery or Cloud Storage retries transient failures before the function fails the delivery so Pub/Sub redelivers (WRITE_BUDGET_SECONDS). Must fit in the function timeouts and the ack deadline (checked at plan time)."
  type        = number
  default     = 30

  validation {
    condition     = var.write_budget_seconds > 0 && var.write_budget_seconds <= 540
    error_message = "write_budget_seconds must be between 0 (exclusive) and 540."
  }
}

variable "max_message_bytes" {
  description = "Messages larger than this become too_large error rows (MAX_MESSAGE_BYTES). Pub/Sub's own limit is 10 MiB."
  type        = number
  default     = 10485760

  validation {
    condition     = var.max_message_bytes >= 1 && var.max_message_bytes <= 67108864 && floor(var.max_message_bytes) == var.max_message_bytes
    error_message = "max_message_bytes must be a whole number of bytes between 1 and 67108864 (64 MiB)."
  }
}

variable "log_level" {
  description = "Level of the functions' own log lines (LOG_LEVEL): INFO writes one summary per drain run and per ingest instance and minute, plus one line per failed delivery; DEBUG adds one line per message (billed by Cloud Logging at volume)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}
