# Topics carry the names the code defaults to (shared/config.py), so the local stack and
# Google Cloud agree; tests/infra checks it.
#
# No Pub/Sub schema is attached: the features message carries its own schema version
# (attribute `schema`) and predict refuses a spec it does not serve. A Pub/Sub schema
# (Avro/Protobuf only) would repeat shared/pipeline/messages.py and make every message change a
# two-step deploy.
#
# How events reach the functions, and where dead-lettering happens:
# - preprocess: an Eventarc Storage trigger (functions.tf). Eventarc owns the Pub/Sub
#   subscription behind it, so Terraform cannot give it a dead-letter policy; with
#   RETRY_POLICY_RETRY Eventarc redelivers with backoff for up to 24 h. preprocess
#   therefore counts deliveries in the result document (`attempts`) and, past
#   MAX_DELIVERY_ATTEMPTS, publishes the event to upload-events-dead-letter itself.
# - predict and dead_letter: a Pub/Sub push subscription managed here, pushing to the
#   function's URL. That is the one place a real dead_letter_policy can be set: after
#   MAX_DELIVERY_ATTEMPTS Pub/Sub moves the message to audio-features-dead-letter. The push
#   path ends in /projects/P/topics/T, from which functions-framework turns the raw push
#   body into the same google.cloud.pubsub.topic.v1.messagePublished CloudEvent Eventarc
#   would send.
# - dead_letter: pushed from both dead-letter topics; it marks the document failed.

resource "google_pubsub_topic" "features" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; features are derived, short-lived data and CMEK would add a KMS key to run and pay for.
  name                       = "audio-features"
  message_retention_duration = "86400s"
  depends_on                 = [google_project_service.apis]
}

resource "google_pubsub_topic" "results" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; results are also in Firestore.
  name                       = "cough-results"
  message_retention_duration = "86400s"
  depends_on                 = [google_project_service.apis]
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; dead-lettered events hold object names and features only.
  for_each = {
    uploads  = "upload-events-dead-letter"
    features = "audio-features-dead-letter"
  }
  name                       = each.value
  message_retention_duration = var.dead_letter_retention
  depends_on                 = [google_project_service.apis]
}

# A pull subscription on each dead-letter topic that nobody consumes: failures stay
# there for inspection (`gcloud pubsub subscriptions pull ... --auto-ack`) for a week.
resource "google_pubsub_subscription" "dead_letter_inspect" {
  for_each                   = google_pubsub_topic.dead_letter
  name                       = "${each.value.name}-inspect"
  topic                      = each.value.id
  message_retention_duration = var.dead_letter_retention
  retain_acked_messages      = true
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

locals {
  # Push subscriptions: function entry point, the topic it reads, and (for predict) where
  # messages go after max_delivery_attempts.
  push_subscriptions = {
    predict-audio-features = {
      function    = "predict"
      topic       = google_pubsub_topic.features
      dead_letter = google_pubsub_topic.dead_letter["features"].id
    }
    dead-letter-upload-events = {
      function    = "dead_letter"
      topic       = google_pubsub_topic.dead_letter["uploads"]
      dead_letter = null
    }
    dead-letter-audio-features = {
      function    = "dead_letter"
      topic       = google_pubsub_topic.dead_letter["features"]
      dead_letter = null
    }
  }
}

resource "google_pubsub_subscription" "push" {
  for_each = local.push_subscriptions
  name     = each.key
  topic    = each.value.topic.id
  # The push request waits for the function; give it the function's timeout and more.
  ack_deadline_seconds       = 120
  message_retention_duration = "604800s"

  push_config {
    # The Cloud Run (run.app) URI: the audience Cloud Run checks the OIDC token against.
    push_endpoint = "${google_cloudfunctions2_function.function[each.value.function].service_config[0].uri}/projects/${var.project_id}/topics/${each.value.topic.name}"
    oidc_token {
      service_account_email = google_service_account.events.email
      audience              = google_cloudfunctions2_function.function[each.value.function].service_config[0].uri
    }
  }

  # A refused push (429: predict at max instances) waits 10 s, doubling to 600 s, and is a
  # delivery attempt: push_max_delivery_attempts of them (~16 h of backoff) before Pub/Sub
  # dead-letters it, so overload delays an upload rather than failing it.
  retry_policy {
    minimum_backoff = "${var.push_minimum_backoff_s}s"
    maximum_backoff = "${var.push_maximum_backoff_s}s"
  }

  dynamic "dead_letter_policy" {
    for_each = each.value.dead_letter == null ? [] : [each.value.dead_letter]
    content {
      dead_letter_topic     = dead_letter_policy.value
      max_delivery_attempts = var.push_max_delivery_attempts
    }
  }

  expiration_policy {
    ttl = ""
  }
}
