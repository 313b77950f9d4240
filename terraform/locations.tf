# Where the data lives, and whether each CMEK key sits in a location its service accepts.
# Only variables are read here (no resources), so tests evaluate these locals offline with
# `terraform console`; the dataset and the archive bucket turn a problem into a plan-time
# precondition failure instead of an API error halfway through the first apply.

locals {
  storage_location = coalesce(var.storage_location, upper(var.region))

  # Cloud KMS names its multi-regions differently from BigQuery and Cloud Storage.
  kms_multi_region = { EU = "europe", US = "us", ASIA = "asia" }

  # BigQuery: "Create the key ring in a location that matches the location of your BigQuery
  # dataset" (https://cloud.google.com/bigquery/docs/customer-managed-encryption): europe for
  # EU, us for US, the region itself for a regional dataset; global is accepted too.
  bigquery_location_upper = upper(var.bigquery_location)
  bigquery_kms_locations = distinct([
    lookup(local.kms_multi_region, local.bigquery_location_upper, lower(var.bigquery_location)),
    "global",
  ])
  bigquery_kms_location = var.bigquery_kms_key_name == null ? null : lower(split("/", var.bigquery_kms_key_name)[3])
  bigquery_kms_problem = (
    local.bigquery_kms_location == null || contains(local.bigquery_kms_locations, coalesce(local.bigquery_kms_location, "-"))
    ? ""
    : "bigquery_kms_key_name is in location \"${coalesce(local.bigquery_kms_location, "-")}\", but the dataset is in \"${var.bigquery_location}\": BigQuery needs a key in ${join(" or ", local.bigquery_kms_locations)}. Use a key from a key ring there, or change bigquery_location."
  )

  # Cloud Storage: the key must be in the bucket's location
  # (https://cloud.google.com/storage/docs/encryption/customer-managed-keys): the region of a
  # regional bucket, europe/us/asia for EU/US/ASIA, and for a predefined dual-region (EUR4,
  # NAM4, ASIA1...) that dual-region or the multi-region around it.
  storage_location_upper = upper(local.storage_location)
  storage_kms_locations = distinct(compact([
    lookup(local.kms_multi_region, local.storage_location_upper, lower(local.storage_location)),
    can(regex("^EUR[0-9]+$", local.storage_location_upper)) ? "europe" : "",
    can(regex("^NAM[0-9]+$", local.storage_location_upper)) ? "us" : "",
    can(regex("^ASIA[0-9]+$", local.storage_location_upper)) ? "asia" : "",
  ]))
  storage_kms_location = var.storage_kms_key_name == null ? null : lower(split("/", var.storage_kms_key_name)[3])
  storage_kms_problem = (
    local.storage_kms_location == null || contains(local.storage_kms_locations, coalesce(local.storage_kms_location, "-"))
    ? ""
    : "storage_kms_key_name is in location \"${coalesce(local.storage_kms_location, "-")}\", but the archive bucket is in \"${local.storage_location}\": Cloud Storage needs a key in ${join(" or ", local.storage_kms_locations)}. Use a key from a key ring there, or set storage_location to the key's location."
  )
}
