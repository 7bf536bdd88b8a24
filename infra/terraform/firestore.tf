# Results live in Firestore (native mode), `results/{key}`. The functions use the
# server SDK with their service accounts (IAM, iam.tf), which security rules do not
# apply to. The rules (../firestore.rules) govern browser/mobile clients only: they deny
# everything, because the web page reads through results_api. One composite index: a
# visitor's history (GET /results, owner = uid, newest first); every other read is a get
# by document id.
resource "google_firestore_database" "default" {
  name                              = "(default)"
  location_id                       = coalesce(var.firestore_location, var.region)
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"
  depends_on                        = [google_project_service.apis]
}

# A visitor's history: results where owner == uid, ordered by created_at descending.
resource "google_firestore_index" "results_by_owner" {
  database    = google_firestore_database.default.name
  collection  = "results"
  query_scope = "COLLECTION"

  fields {
    field_path = "owner"
    order      = "ASCENDING"
  }
  fields {
    field_path = "created_at"
    order      = "DESCENDING"
  }
}

# `coughcloud stats` reads the results updated in a time range. updated_at only ever rises,
# and Firestore caps writes to a collection with a rising indexed value at 500 a second
# (a result is written 4-5 times), so the range is read through `shard` (0..15, from the
# key; shared/pipeline/results.py): each shard's updated_at is its own range, 16 x 500.
resource "google_firestore_index" "results_by_shard_updated" {
  database    = google_firestore_database.default.name
  collection  = "results"
  query_scope = "COLLECTION"

  fields {
    field_path = "shard"
    order      = "ASCENDING"
  }
  fields {
    field_path = "updated_at"
    order      = "ASCENDING"
  }
}

locals {
  # Fields of results/{key} no query filters or orders on by themselves: rising values
  # (created_at, updated_at and generation: each would cap the collection at 500 writes a
  # second) and maps (every key of a map is indexed, a cost per write). The composite
  # indexes above still hold created_at and updated_at for the queries that need them.
  results_unindexed_fields = [
    "created_at", "updated_at", "generation", "timings", "probabilities", "audio", "model",
    "shadow", "scores", "feedback",
  ]
}

resource "google_firestore_field" "results_unindexed" {
  for_each   = toset(local.results_unindexed_fields)
  database   = google_firestore_database.default.name
  collection = "results"
  field      = each.key

  # No single-field index at all (an empty index_config is an exemption).
  index_config {}
}

# Retention: Firestore deletes a result (typically within a day) once its expire_at (created
# + RETENTION_DAYS, written by the pipeline) has passed. The TTL deletes the document only:
# its `finished/*` markers (a status and a time) carry their own expire_at, with a TTL of
# their own below, and an owner's erasure removes them with the document.
resource "google_firestore_field" "results_expire_at" {
  database   = google_firestore_database.default.name
  collection = "results"
  field      = "expire_at"

  ttl_config {}
  # A TTL field needs no single-field index (it would only cost writes).
  index_config {}
}

# Erasure tombstones (shared/accounts/tombstones.py): a name or account erased less than a
# signed URL's lifetime ago. The code ignores an expired one; the TTL only clears them away.
resource "google_firestore_field" "tombstones_expire_at" {
  database   = google_firestore_database.default.name
  collection = "tombstones"
  field      = "expire_at"

  ttl_config {}
}

resource "google_firestore_field" "finished_expire_at" {
  database   = google_firestore_database.default.name
  collection = "finished" # the collection group of every results/{key}/finished/{generation}
  field      = "expire_at"

  ttl_config {}
  index_config {}
}

resource "google_firebaserules_ruleset" "firestore" {
  source {
    files {
      name    = "firestore.rules"
      content = file("${path.module}/../firestore.rules")
    }
  }
  depends_on = [google_firestore_database.default]
}

resource "google_firebaserules_release" "firestore" {
  name         = "cloud.firestore"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"

  lifecycle {
    replace_triggered_by = [google_firebaserules_ruleset.firestore]
  }
}

# The model registry's pointer document, `models/<name>`: which version is champion (and
# canary, shadow). Terraform writes the first champion only; from then on
# `coughcloud models …` moves the aliases and records each change in its history, so
# Terraform never writes the document again (ignore_changes) and never undoes a promotion.
resource "google_firestore_document" "model_pointer" {
  database    = google_firestore_database.default.name
  collection  = "models"
  document_id = var.model_name
  fields = jsonencode({
    name       = { stringValue = var.model_name }
    champion   = { stringValue = var.model_version }
    previous   = { nullValue = null }
    canary     = { nullValue = null }
    percent    = { integerValue = "0" }
    shadow     = { nullValue = null }
    updated_by = { stringValue = "terraform" }
  })

  lifecycle {
    ignore_changes = [fields]
  }
}
