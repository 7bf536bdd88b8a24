# The upload page (frontend_stub/dist, built by `make setup`) in a bucket of its own, the
# only public one. It is served at https://storage.googleapis.com/<project>-web/index.html,
# so the page's origin is https://storage.googleapis.com (shared with every public bucket;
# docs/guides/deploy.md, "The page on Cloud", says why that is acceptable and how to put a domain in
# front). The page never goes into the uploads bucket: a finalize event there triggers
# preprocess.
locals {
  web_dist        = "${path.module}/../../frontend_stub/dist"
  web_page_origin = "https://storage.googleapis.com"
  # What CORS on results_api and on the uploads bucket allow: the page, plus var.web_origins.
  web_origins = distinct(concat([local.web_page_origin], var.web_origins))

  # Terraform writes config.json itself, so one left in dist/ by hand is not uploaded.
  web_files = setsubtract(fileset(local.web_dist, "**"), ["config.json"])
  # A file type missing here fails the plan instead of being served as octet-stream
  # (a module script with the wrong type does not run); tests/infra checks dist/ against it.
  web_content_types = {
    html  = "text/html; charset=utf-8"
    js    = "text/javascript; charset=utf-8"
    css   = "text/css; charset=utf-8"
    json  = "application/json"
    map   = "application/json"
    svg   = "image/svg+xml"
    png   = "image/png"
    ico   = "image/x-icon"
    webp  = "image/webp"
    woff2 = "font/woff2"
    txt   = "text/plain; charset=utf-8"
  }
  # Vite puts a content hash in every name under assets/, so those never change; the page
  # and its config must be revalidated, or a redeploy would be invisible for an hour (the
  # default for public objects).
  web_cache_immutable  = "public, max-age=31536000, immutable"
  web_cache_revalidate = "no-cache"
}

resource "google_storage_bucket" "web" {
  #checkov:skip=CKV_GCP_114:The web page must be readable by anyone, so public access prevention stays "inherited" on this bucket alone; it holds only the built page (tests/infra).
  #checkov:skip=CKV_GCP_78:Every object is rebuilt from frontend_stub/ and re-uploaded by Terraform; versions add nothing.
  #checkov:skip=CKV_GCP_62:Public static files; access logs would only record page views.
  name                        = "${var.project_id}-web"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "inherited"
  force_destroy               = true # its content is the build output, recreated by apply

  # Used when a load balancer or custom domain serves the bucket; storage.googleapis.com
  # URLs name the object themselves.
  website {
    main_page_suffix = "index.html"
    not_found_page   = "index.html"
  }

  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_iam_member" "web_public" {
  #checkov:skip=CKV_GCP_28:The web page is public by design; this bucket holds only the built page and its config.json (the API URL, public anyway).
  bucket = google_storage_bucket.web.name
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_storage_bucket_object" "web" {
  for_each      = local.web_files
  bucket        = google_storage_bucket.web.name
  name          = each.value
  source        = "${local.web_dist}/${each.value}"
  content_type  = local.web_content_types[lower(regex("[^.]+$", each.value))]
  cache_control = startswith(each.value, "assets/") ? local.web_cache_immutable : local.web_cache_revalidate
}

# The API's address and the Firebase settings the page signs in with are configuration,
# never in the page's code: the page fetches config.json relative to itself.
resource "google_storage_bucket_object" "web_config" {
  bucket = google_storage_bucket.web.name
  name   = "config.json"
  content = jsonencode({
    apiUrl   = google_cloudfunctions2_function.function["results_api"].url
    firebase = local.firebase_web_config # auth.tf; no authEmulatorUrl on Google Cloud
  })
  content_type  = "application/json"
  cache_control = local.web_cache_revalidate

  lifecycle {
    precondition {
      condition     = fileexists("${local.web_dist}/index.html")
      error_message = "frontend_stub/dist/index.html is missing: build the page with `make setup` (or `cd frontend_stub && npm run build`) before `terraform apply`."
    }
  }
}
