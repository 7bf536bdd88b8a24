# Accounts: Firebase Authentication through Identity Platform. The page signs visitors in
# anonymously (nothing to fill in on a first visit) or with email and password, and sends
# their ID token to results_api, which verifies it (revocation and disabled users checked)
# and serves only that visitor's uploads (users/{uid}/…). No emulator setting is ever
# passed to a function here (tests/infra): with FIREBASE_AUTH_EMULATOR_HOST set,
# firebase-admin would accept unsigned tokens.

locals {
  firebase_auth_domain = "${var.project_id}.firebaseapp.com"
  # What the page's config.json carries (web.tf); the key is public by nature, restricted below.
  firebase_web_config = merge(
    {
      apiKey     = google_apikeys_key.web.key_string
      authDomain = local.firebase_auth_domain
      projectId  = var.project_id
    },
    # With App Check on (app_check.tf) the page registers with it: its app id and site key.
    local.app_check ? { appId = google_firebase_web_app.page[0].app_id, appCheckSiteKey = var.app_check_site_key } : {},
  )
}

resource "google_identity_platform_config" "auth" {
  project = var.project_id
  # Every first visit signs in anonymously, and a project holds at most 100 million anonymous
  # accounts (Identity Platform quotas): anonymous accounts not upgraded to email are deleted
  # after 30 days, when their recordings are erased anyway (retention_days).
  autodelete_anonymous_users = true
  authorized_domains = distinct(concat(
    ["localhost", local.firebase_auth_domain, "${var.project_id}.web.app"],
    [for origin in local.web_origins : regex("^https?://([^/:]+)", origin)[0]],
    var.auth_authorized_domains,
  ))

  sign_in {
    allow_duplicate_emails = false
    anonymous {
      enabled = true
    }
    email {
      enabled           = true
      password_required = true
    }
  }

  depends_on = [google_project_service.apis]
}

# The browser key: only the sign-in APIs (Identity Toolkit, and Secure Token, which
# refreshes ID tokens), only from the page's origins.
resource "google_apikeys_key" "web" {
  name         = "coughcloud-web"
  display_name = "CoughCloud page sign-in"

  restrictions {
    api_targets {
      service = "identitytoolkit.googleapis.com"
    }
    api_targets {
      service = "securetoken.googleapis.com"
    }
    browser_key_restrictions {
      allowed_referrers = [for origin in local.web_origins : "${origin}/*"]
    }
  }

  depends_on = [google_project_service.apis]
}
