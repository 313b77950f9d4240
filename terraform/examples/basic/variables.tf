variable "project_id" {
  description = "Project that hosts the stack and whose logs are exported."
  type        = string
}

variable "region" {
  description = "Region of the functions, scheduler job and buckets."
  type        = string
  default     = "europe-west1"
}
