# Firebase App Check for the page and results_api: off unless var.app_check_site_key is set.
# With it, the page (a Firebase web app registered here) gets App Check tokens from reCAPTCHA
# Enterprise and sends them with every API call, and results_api refuses calls without a
# valid one (APP_CHECK_REQUIRED, shared/http/app_check.py): a script replaying a visitor's ID
# token is refused. It cannot run on the local stack (reCAPTCHA attests only the page's
# registered domains; no emulator issues App Check tokens), so it stays off there.

locals {
  app_check = var.app_check_site_key != ""
}

resource "google_project_service" "app_check" {
  for_each           = local.app_check ? toset(["firebase.googleapis.com", "firebaseappcheck.googleapis.com", "recaptchaenterprise.googleapis.com"]) : toset([])
  service            = each.value
  disable_on_destroy = false
}

resource "google_firebase_project" "this" {
  count      = local.app_check ? 1 : 0
  project    = var.project_id
  depends_on = [google_project_service.app_check]
}

resource "google_firebase_web_app" "page" {
  count           = local.app_check ? 1 : 0
  project         = var.project_id
  display_name    = "CoughCloud page"
  deletion_policy = "DELETE"
  depends_on      = [google_firebase_project.this]
}

resource "google_firebase_app_check_recaptcha_enterprise_config" "page" {
  count     = local.app_check ? 1 : 0
  project   = var.project_id
  app_id    = google_firebase_web_app.page[0].app_id
  site_key  = var.app_check_site_key
  token_ttl = "3600s"
}
