# The four functions. Each deploys its functions/<name>.py as main.py plus shared/ and
# requirements.txt (built by `make package` into dist/functions/<name>.zip). The archive
# name in the source bucket carries its sha256: an unchanged archive is not redeployed.
locals {
  dist_dir  = "${path.module}/../../dist/functions"
  model_uri = "gs://${google_storage_bucket.models.name}/${var.model_name}/${var.model_version}"

  # Every environment variable is a field of shared/config.py's Settings (tests/infra
  # checks the names). Emulator variables are never set here.
  # FIREBASE_AUTH_EMULATOR_HOST above all: with it firebase-admin accepts unsigned tokens.
  common_env = {
    GOOGLE_CLOUD_PROJECT = var.project_id
    LOG_LEVEL            = var.log_level
    RETENTION_DAYS       = tostring(var.retention_days) # expire_at of every result written
  }

  # Sizing (`coughcloud capacity` models it: docs/guides/scale.md). Serving imports numpy,
  # LiteRT (predict), soundfile/soxr/PyAV (preprocess), Flask and the Google clients (~90 MB
  # RSS; no TensorFlow). preprocess and predict spend ~10 ms of CPU and ~60-100 ms waiting on
  # Google's APIs per event, so 512 MiB keeps a call in one or two 100 ms billing steps. Their
  # 0.5 vCPU (not 0.333, the platform's pairing for 512 MiB) is for their start, which the
  # page's warm-up must finish before the visitor uploads (docs/concepts/warm-up.md, "Each
  # function at its Cloud vCPU"). Below 1 vCPU an instance serves one request at a time (a platform rule), and at full
  # vCPU with concurrency each call would cost ~1.7x at today's traffic, where calls rarely
  # overlap: the plan shows concurrency does not pay for them.
  # results_api answers every visitor's polls (~3-7 per upload): at full vCPU with
  # concurrency 80 its instances share the wait on Firestore and IAM, which a burst needs
  # (at 0.333 vCPU it would take ~5x the instances and their cold starts).
  # max_instances: what a 1,000 uploads/s burst of 60 s from idle needs with no request
  # refused (`coughcloud capacity --rate 1000 --burst-s 60`); Cloud Run's default ceiling is
  # 100 instances per service, so the larger figures need the project's quota to allow them.
  # Cold start (bench/function_cold_start.py): a new instance's first answer takes
  # 0.5–0.8 s of one full core (docs/performance.md, "A deployed function's cold start"), ~2x that
  # at 0.5 vCPU. What the platform offers against it, and what it costs:
  # - var.min_instances: warm instances, billed at the idle rate (~$6.6 a month each at
  #   512Mi / 0.5 vCPU); default none.
  # - cpu = "1" for a function (var.function_sizing): cold starts at full-core speed, and
  #   a 100 ms call costs 1.7x the 0.5 vCPU one (infra/cost.py).
  # - Startup CPU boost: a Cloud Run setting that the Cloud Functions v2 API, and so
  #   google_cloudfunctions2_function, does not expose; it is not set here (docs/guides/deploy.md).
  sizing_defaults = {
    preprocess  = { memory = "512Mi", cpu = "0.5", timeout_s = 60, concurrency = 1, min_instances = 0, max_instances = 400 }
    predict     = { memory = "512Mi", cpu = "0.5", timeout_s = 30, concurrency = 1, min_instances = 0, max_instances = 300 }
    results_api = { memory = "512Mi", cpu = "1", timeout_s = 10, concurrency = 80, min_instances = 0, max_instances = 300 }
    dead_letter = { memory = "256Mi", cpu = "0.167", timeout_s = 30, concurrency = 1, min_instances = 0, max_instances = 3 }
  }
  sizing = {
    for name, defaults in local.sizing_defaults :
    name => merge(
      defaults,
      { for key, value in try(var.function_sizing[name], {}) : key => value if value != null },
      { min_instances = lookup(var.min_instances, name, defaults.min_instances) },
    )
  }

  # Where results_api sends its warm-ups (POST /warm, POST /uploads): preprocess's and
  # predict's Cloud Run URLs in Cloud Run's deterministic form, known before they are deployed.
  # Not google_cloudfunctions2_function.function[...].url: results_api is an instance of that
  # same resource, which cannot read its own instances (a dependency cycle). The ID token
  # results_api mints for a warm-up names this URL as its audience; Cloud Run accepts either
  # of a service's run.app URLs.
  warm_up_urls = {
    for name in ["preprocess", "predict"] :
    name => "https://${name}-${data.google_project.this.number}.${var.region}.run.app"
  }

  functions = {
    preprocess = {
      # Reachable from outside Google's network (results_api's warm-ups come from there: a
      # function without VPC egress is not "internal"), but invokable only with an ID token of
      # an account granted run.invoker on it (iam.tf: the event identity and results_api).
      ingress = "ALLOW_ALL"
      # Eventarc: every finalized object in the uploads bucket.
      storage_trigger = {
        event_type = "google.cloud.storage.object.v1.finalized"
        bucket     = google_storage_bucket.uploads.name
      }
      env = {
        UPLOAD_BUCKET             = google_storage_bucket.uploads.name
        FEATURES_TOPIC            = google_pubsub_topic.features.name
        RESULTS_TOPIC             = google_pubsub_topic.results.name # failed uploads are announced too
        UPLOADS_DEAD_LETTER_TOPIC = google_pubsub_topic.dead_letter["uploads"].name
        MODEL_URI                 = local.model_uri # the registry (its parent) and the first champion
        MODELS_COLLECTION         = google_firestore_document.model_pointer.collection
        MODEL_POINTER_TTL_S       = tostring(var.model_pointer_ttl_s)
        MAX_DELIVERY_ATTEMPTS     = tostring(var.max_delivery_attempts)
        MAX_UPLOAD_BYTES          = tostring(var.max_upload_bytes)
        MAX_DURATION_S            = tostring(var.max_duration_s)
        SIGNED_URL_EXPIRY_S       = tostring(var.signed_url_expiry_s) # read with the tombstones' module
      }
    }
    predict = {
      # As preprocess: results_api's warm-ups, invokable only as iam.tf grants.
      ingress         = "ALLOW_ALL"
      storage_trigger = null # pushed by the predict-audio-features subscription (pubsub.tf)
      env = {
        MODEL_URI                  = local.model_uri
        MODELS_COLLECTION          = google_firestore_document.model_pointer.collection
        MODEL_POINTER_TTL_S        = tostring(var.model_pointer_ttl_s)
        RESULTS_TOPIC              = google_pubsub_topic.results.name
        FEATURES_DEAD_LETTER_TOPIC = google_pubsub_topic.dead_letter["features"].name
        MAX_DELIVERY_ATTEMPTS      = tostring(var.max_delivery_attempts)
      }
    }
    results_api = {
      ingress         = "ALLOW_ALL" # public: browsers call it (public invoke in iam.tf)
      storage_trigger = null
      env = {
        UPLOAD_BUCKET           = google_storage_bucket.uploads.name
        CORS_ALLOWED_ORIGINS    = join(",", local.web_origins) # the page (web.tf) + var.web_origins
        SIGNED_URL_EXPIRY_S     = tostring(var.signed_url_expiry_s)
        SIGNING_SERVICE_ACCOUNT = google_service_account.uploader.email
        MAX_UPLOAD_BYTES        = tostring(var.max_upload_bytes)
        PREPROCESS_URL          = local.warm_up_urls["preprocess"]
        PREDICT_URL             = local.warm_up_urls["predict"]
        WARM_UP_INTERVAL_S      = tostring(var.warm_up_interval_s)
        APP_CHECK_REQUIRED      = local.app_check ? "1" : "0" # app_check.tf
      }
    }
    dead_letter = {
      ingress         = "ALLOW_INTERNAL_ONLY"
      storage_trigger = null # pushed by the dead-letter-* subscriptions (pubsub.tf)
      env = {
        UPLOAD_BUCKET         = google_storage_bucket.uploads.name
        RESULTS_TOPIC         = google_pubsub_topic.results.name # announces the failure it records
        MAX_DELIVERY_ATTEMPTS = tostring(var.max_delivery_attempts)
      }
    }
  }
}

resource "google_storage_bucket_object" "source" {
  for_each = local.functions
  name     = "${each.key}-${filesha256("${local.dist_dir}/${each.key}.zip")}.zip"
  bucket   = google_storage_bucket.function_source.name
  source   = "${local.dist_dir}/${each.key}.zip"
}

resource "google_cloudfunctions2_function" "function" {
  #checkov:skip=CKV_GCP_124:results_api is the public HTTP API browsers call, and preprocess and predict take its warm-ups, so they need ALLOW_ALL; only results_api is invokable by allUsers, dead_letter is ALLOW_INTERNAL_ONLY (asserted by tests/infra).
  for_each = local.functions
  # Cloud Run service names take no underscores: results_api deploys as results-api.
  name        = replace(each.key, "_", "-")
  location    = var.region
  description = "CoughCloud ${each.key} (functions/${each.key}.py)"

  build_config {
    runtime         = "python311"
    entry_point     = each.key
    service_account = google_service_account.build.id
    source {
      storage_source {
        bucket = google_storage_bucket.function_source.name
        object = google_storage_bucket_object.source[each.key].name
      }
    }
  }

  service_config {
    available_memory                 = local.sizing[each.key].memory
    available_cpu                    = local.sizing[each.key].cpu
    timeout_seconds                  = local.sizing[each.key].timeout_s
    max_instance_request_concurrency = local.sizing[each.key].concurrency
    min_instance_count               = local.sizing[each.key].min_instances
    max_instance_count               = local.sizing[each.key].max_instances
    ingress_settings                 = each.value.ingress
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function[each.key].email
    environment_variables            = merge(local.common_env, each.value.env)
  }

  dynamic "event_trigger" {
    for_each = each.value.storage_trigger == null ? [] : [each.value.storage_trigger]
    content {
      trigger_region        = var.region
      event_type            = event_trigger.value.event_type
      retry_policy          = "RETRY_POLICY_RETRY"
      service_account_email = google_service_account.events.email
      event_filters {
        attribute = "bucket"
        value     = event_trigger.value.bucket
      }
    }
  }

  depends_on = [
    google_project_service.apis,
    google_project_iam_member.storage_agent_publishes,
    google_project_iam_member.events_receive,
    google_project_iam_member.build,
    google_storage_bucket_iam_member.build_reads_source,
  ]
}
