output "results_api_url" {
  description = "Base URL of the HTTP API (GET/DELETE /results, POST /uploads, DELETE /me, /healthz, /openapi.json)."
  value       = google_cloudfunctions2_function.function["results_api"].url
}

output "web_url" {
  description = "The upload page. Open it in a browser."
  value       = "${local.web_page_origin}/${google_storage_bucket.web.name}/index.html"
}

output "web_bucket" {
  description = "Bucket serving the page (frontend_stub/dist + config.json); the only public one."
  value       = google_storage_bucket.web.name
}

output "upload_bucket" {
  description = "Bucket browsers upload into (through signed URLs from POST /uploads)."
  value       = google_storage_bucket.uploads.name
}

output "model_bucket" {
  description = "Bucket holding model folders `<name>/<version>/`."
  value       = google_storage_bucket.models.name
}

output "model_uri" {
  description = "MODEL_URI predict serves."
  value       = local.model_uri
}

output "features_topic" {
  value = google_pubsub_topic.features.name
}

output "results_topic" {
  description = "Subscribe here to receive every result as it is written."
  value       = google_pubsub_topic.results.name
}

output "dead_letter_subscriptions" {
  description = "Pull these to inspect events that were given up on."
  value       = [for s in google_pubsub_subscription.dead_letter_inspect : s.name]
}

output "web_api_key" {
  description = "The web API key the page and `coughcloud login` sign in with (FIREBASE_API_KEY). Public by nature (it is in config.json), restricted to the Auth APIs."
  value       = google_apikeys_key.web.key_string
  sensitive   = true
}

output "signing_service_account" {
  value = google_service_account.uploader.email
}
