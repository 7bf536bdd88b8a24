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

# Retention: Firestore deletes a result (typically within a day) once its expire_at (created
# + RETENTION_DAYS, written by the pipeline) has passed. The TTL deletes the document only;
# its `finished/*` markers are tiny and hold no personal data (a status and a time), and an
# owner's erasure removes them with the document.
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
