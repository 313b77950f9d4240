terraform {
  # 1.5: strcontains() and check blocks; tested with 1.11.
  required_version = ">= 1.5.0, < 2.0.0"

  # Pinned to the releases whose schemas tests/terraform/test_provider_schema.py checks every
  # .tf file against (read offline from the CDKTF provider packages; see README "Provider
  # versions"): google and google-beta 6.50.x, archive 2.7.x, time 0.13.x.
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50.0"
    }
    # Only for google_project_service_identity (the Pub/Sub service agent), which has no GA
    # resource.
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.50.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7.1"
    }
    # time_sleep: lets new IAM grants of the build account propagate before the builds.
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13.1"
    }
  }
}
