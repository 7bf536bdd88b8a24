# Three buckets, one job each. No function ever writes into the uploads bucket: a
# finalize event there triggers preprocess, so an output written back would trigger it
# again (a trigger loop). Results go to Firestore and Pub/Sub; only browsers, through
# signed URLs minted for the uploader service account, create objects here.

# Versioning is off: an upload is a transient input, deleted after var.retention_days
# (the same days as its result's Firestore TTL, firestore.tf), and a re-upload of the same
# name is a new generation that replaces the old result by design. Keeping noncurrent
# copies would only keep people's recordings longer than promised, and out of reach of an
# owner's erasure (DELETE /results, DELETE /me delete every generation there is).
resource "google_storage_bucket" "uploads" {
  #checkov:skip=CKV_GCP_78:Versioning deliberately off: uploads are transient inputs deleted after N days; noncurrent copies would outlive the retention promise (see comment above).
  #checkov:skip=CKV_GCP_62:Access logs would hold every uploader's object names; Cloud Audit Logs (Data Access) can be enabled per project instead.
  name                        = "${var.project_id}-uploads"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  cors {
    origin          = local.web_origins # the page (web.tf) + var.web_origins
    method          = ["PUT"]
    response_header = ["Content-Type", "x-goog-content-length-range", "x-goog-if-generation-match"]
    max_age_seconds = 3600
  }

  lifecycle_rule {
    condition {
      age = var.retention_days
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.apis]
}

# Model artifacts, `<name>/<version>/` (`coughcloud models push`). Versioned: an
# overwritten or deleted version can be restored; rolling back (`coughcloud models
# rollback`) points the champion alias at a folder that is still there.
resource "google_storage_bucket" "models" {
  #checkov:skip=CKV_GCP_62:Read-only at run time by one service account; Cloud Audit Logs cover access.
  name                        = "${var.project_id}-models"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  depends_on = [google_project_service.apis]
}

# Function source archives from `make package`. Object names carry the archive's sha256,
# so an object never changes once written and versioning adds nothing.
resource "google_storage_bucket" "function_source" {
  #checkov:skip=CKV_GCP_78:Objects are content-addressed (sha256 in the name) and never overwritten.
  #checkov:skip=CKV_GCP_62:Written only by Terraform, read only by Cloud Build; Cloud Audit Logs cover access.
  name                        = "${var.project_id}-function-source"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  depends_on = [google_project_service.apis]
}
