# Results live in Firestore (native mode), `results/{key}`. The functions use the
# server SDK with their service accounts (IAM, iam.tf), which security rules do not
# apply to. The rules (../firestore.rules) govern browser/mobile clients only: they deny
# everything, because the web page reads through results_api. No composite index is
# needed: every read is a get by document id.
resource "google_firestore_database" "default" {
  name                              = "(default)"
  location_id                       = coalesce(var.firestore_location, var.region)
  type                              = "FIRESTORE_NATIVE"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"
  depends_on                        = [google_project_service.apis]
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
