terraform {
  required_version = ">= 1.5.0, < 2.0.0"

  # The versions the module pins (see ../../versions.tf).
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50.0"
    }
    google-beta = {
      source  = "hashicorp/google-beta"
      version = "~> 6.50.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7.1"
    }
    time = {
      source  = "hashicorp/time"
      version = "~> 0.13.1"
    }
  }
}
