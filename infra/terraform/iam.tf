# Least privilege: one service account per function, granted only the buckets, topics
# and Firestore access its code uses, on the resource itself wherever IAM allows it.
# No function account can write to the uploads bucket (see storage.tf): the only
# identity that can is `uploader`, which has no key; results_api signs upload URLs *as*
# it through IAM signBlob, so a signed PUT is valid while results_api's own identity
# still cannot create an object. results_api may list and delete uploads (an owner's
# erasure, every generation), never create or overwrite one.

resource "google_service_account" "function" {
  for_each     = local.functions
  account_id   = "cc-${replace(each.key, "_", "-")}"
  display_name = "CoughCloud ${each.key} function"
}

resource "google_service_account" "uploader" {
  account_id   = "cc-uploader"
  display_name = "CoughCloud upload URL signer (no keys; results_api signs as it)"
}

# Identity of the Eventarc trigger and of the push subscriptions' OIDC tokens.
resource "google_service_account" "events" {
  account_id   = "cc-events"
  display_name = "CoughCloud event delivery (Eventarc, Pub/Sub push)"
}

resource "google_service_account" "build" {
  account_id   = "cc-build"
  display_name = "CoughCloud function builds (Cloud Build)"
}

locals {
  storage_agent = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
  pubsub_agent  = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  fn            = { for k, sa in google_service_account.function : k => "serviceAccount:${sa.email}" }
}

data "google_storage_project_service_account" "gcs" {}

# --- Storage ----------------------------------------------------------------------------

resource "google_storage_bucket_iam_member" "preprocess_reads_uploads" {
  bucket = google_storage_bucket.uploads.name
  role   = "roles/storage.objectViewer"
  member = local.fn["preprocess"]
}

# preprocess reads the model's metadata too: its feature spec decides the features.
resource "google_storage_bucket_iam_member" "reads_models" {
  for_each = toset(["preprocess", "predict"])
  bucket   = google_storage_bucket.models.name
  role     = "roles/storage.objectViewer"
  member   = local.fn[each.value]
}

# A signed PUT needs create. Not delete: that is what replacing an object takes, and an
# upload URL writes once (it signs `x-goog-if-generation-match: 0`; shared/http/signing.py),
# so even a URL signed without that header could not overwrite. No read, no list.
resource "google_project_iam_custom_role" "uploader" {
  role_id     = "coughcloudUploader"
  title       = "CoughCloud uploader"
  description = "Create upload objects, never replace one; granted on the uploads bucket only."
  permissions = ["storage.objects.create"]
}

resource "google_storage_bucket_iam_member" "uploader_writes_uploads" {
  bucket = google_storage_bucket.uploads.name
  role   = google_project_iam_custom_role.uploader.id
  member = "serviceAccount:${google_service_account.uploader.email}"
}

# An owner's erasure (DELETE /results, DELETE /me): list a name's (or a prefix's)
# generations and delete them. No create, no overwrite, no read of the recordings.
resource "google_project_iam_custom_role" "upload_eraser" {
  role_id     = "coughcloudUploadEraser"
  title       = "CoughCloud upload eraser"
  description = "List and delete upload objects (owners' erasure); granted on the uploads bucket only."
  permissions = ["storage.objects.delete", "storage.objects.list"]
}

resource "google_storage_bucket_iam_member" "results_api_erases_uploads" {
  bucket = google_storage_bucket.uploads.name
  role   = google_project_iam_custom_role.upload_eraser.id
  member = local.fn["results_api"]
}

# preprocess deletes, unread, an owned upload that a replayed signed URL wrote: a second
# generation of its name, or one re-created after its owner erased it (shared/accounts/
# tombstones.py). Deleting only: it still cannot create an object, so no trigger loop.
resource "google_storage_bucket_iam_member" "preprocess_refuses_uploads" {
  bucket = google_storage_bucket.uploads.name
  role   = google_project_iam_custom_role.upload_eraser.id
  member = local.fn["preprocess"]
}

resource "google_service_account_iam_member" "results_api_signs_as_uploader" {
  service_account_id = google_service_account.uploader.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.fn["results_api"]
}

# --- Pub/Sub ----------------------------------------------------------------------------

resource "google_pubsub_topic_iam_member" "preprocess_publishes_features" {
  topic  = google_pubsub_topic.features.name
  role   = "roles/pubsub.publisher"
  member = local.fn["preprocess"]
}

resource "google_pubsub_topic_iam_member" "preprocess_dead_letters_uploads" {
  topic  = google_pubsub_topic.dead_letter["uploads"].name
  role   = "roles/pubsub.publisher"
  member = local.fn["preprocess"]
}

# Every stage that can end an upload announces its outcome on cough-results: predict its
# results and model errors, preprocess bad input, dead_letter the uploads that gave up.
resource "google_pubsub_topic_iam_member" "publishes_results" {
  for_each = toset(["preprocess", "predict", "dead_letter"])
  topic    = google_pubsub_topic.results.name
  role     = "roles/pubsub.publisher"
  member   = local.fn[each.value]
}

# predict dead-letters a message itself when the push carries a delivery count past the
# budget; the subscription's dead_letter_policy (pubsub.tf) covers it when it does not.
resource "google_pubsub_topic_iam_member" "predict_dead_letters_features" {
  topic  = google_pubsub_topic.dead_letter["features"].name
  role   = "roles/pubsub.publisher"
  member = local.fn["predict"]
}

# Pub/Sub itself moves predict's undeliverable messages: it must read the source
# subscription and publish to the dead-letter topic.
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letters_features" {
  topic  = google_pubsub_topic.dead_letter["features"].name
  role   = "roles/pubsub.publisher"
  member = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "pubsub_agent_forwards_predict" {
  subscription = google_pubsub_subscription.push["predict-audio-features"].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# Eventarc's Storage triggers publish through a Pub/Sub topic Eventarc creates, so the
# Storage service agent needs the publisher role on the project (no narrower grant works).
resource "google_project_iam_member" "storage_agent_publishes" {
  project = var.project_id
  role    = "roles/pubsub.publisher"
  member  = local.storage_agent
}

# --- Firestore (IAM for Firestore is per project; the functions use one database) ------

# preprocess and predict also read the model pointer document (models/<name>) with it.
resource "google_project_iam_member" "firestore_writers" {
  for_each = toset(["preprocess", "predict", "dead_letter"])
  project  = var.project_id
  role     = "roles/datastore.user"
  member   = local.fn[each.value]
}

# results_api reads results, records an owner's feedback on one (an update of that
# field) and erases an owner's (document and markers). It creates documents only to lay an
# erasure's tombstones (shared/accounts/tombstones.py), never a result. Firestore IAM has no
# per-collection or per-field grain: the API's code limits all of it to the caller's own.
resource "google_project_iam_custom_role" "results_reader_eraser" {
  role_id     = "coughcloudResultsReaderEraser"
  title       = "CoughCloud results reader, feedback and eraser"
  description = "Read, query, update (owners' feedback) and delete Firestore documents; create erasure tombstones."
  permissions = [
    "datastore.databases.getMetadata",
    "datastore.entities.create",
    "datastore.entities.get",
    "datastore.entities.list",
    "datastore.entities.update",
    "datastore.entities.delete",
  ]
}

resource "google_project_iam_member" "results_api_reads_and_erases_results" {
  project = var.project_id
  role    = google_project_iam_custom_role.results_reader_eraser.id
  member  = local.fn["results_api"]
}

# --- Accounts (Identity Platform IAM is per project) ----------------------------------

# Verifying a token with revocation checked reads the user; DELETE /me revokes the user's
# tokens (an update of tokensValidAfterTime) and deletes the user. Nothing else.
resource "google_project_iam_custom_role" "account_verifier_eraser" {
  role_id     = "coughcloudAccountVerifierEraser"
  title       = "CoughCloud account verifier and eraser"
  description = "Look up a user (ID-token revocation check), revoke its tokens, delete it."
  permissions = ["firebaseauth.users.get", "firebaseauth.users.update", "firebaseauth.users.delete"]
}

resource "google_project_iam_member" "results_api_verifies_and_erases_accounts" {
  project = var.project_id
  role    = google_project_iam_custom_role.account_verifier_eraser.id
  member  = local.fn["results_api"]
}

# --- Event delivery ---------------------------------------------------------------------

resource "google_project_iam_member" "events_receive" {
  project = var.project_id
  role    = "roles/eventarc.eventReceiver"
  member  = "serviceAccount:${google_service_account.events.email}"
}

# Pub/Sub mints the OIDC tokens of push requests (and of Eventarc's own push) as `events`.
resource "google_service_account_iam_member" "pubsub_agent_mints_event_tokens" {
  service_account_id = google_service_account.events.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}

resource "google_cloud_run_v2_service_iam_member" "events_invoke" {
  for_each = toset(["preprocess", "predict", "dead_letter"])
  name     = google_cloudfunctions2_function.function[each.value].service_config[0].service
  location = var.region
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.events.email}"
}

# results_api warms preprocess and predict (POST /warm, POST /uploads: shared/cloud/warmup.py)
# with an ID token of its own account: it may invoke those two services and nothing else.
resource "google_cloud_run_v2_service_iam_member" "results_api_warms" {
  for_each = toset(["preprocess", "predict"])
  name     = google_cloudfunctions2_function.function[each.value].service_config[0].service
  location = var.region
  role     = "roles/run.invoker"
  member   = local.fn["results_api"]
}

# results_api is the public HTTP API: anyone may invoke it; every route but health and
# the OpenAPI document then needs a visitor's ID token, and serves only their own uploads.
resource "google_cloud_run_v2_service_iam_member" "results_api_public" {
  name     = google_cloudfunctions2_function.function["results_api"].service_config[0].service
  location = var.region
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# --- Builds -----------------------------------------------------------------------------

resource "google_project_iam_member" "build" {
  for_each = toset(["roles/logging.logWriter", "roles/artifactregistry.writer"])
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_reads_source" {
  bucket = google_storage_bucket.function_source.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}
