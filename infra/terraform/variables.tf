variable "project_id" {
  description = "The Google Cloud project to deploy into."
  type        = string
}

variable "region" {
  description = "Region of the functions, the buckets and the Eventarc trigger (they must match for Storage events)."
  type        = string
  default     = "europe-west1"
}

variable "firestore_location" {
  description = "Firestore location; defaults to the region. A multi-region (eur3, nam5) costs more and survives a region outage."
  type        = string
  default     = null
}

variable "web_origins" {
  description = "Other origins the page is served from (scheme://host[:port]), e.g. a custom domain; allowed by CORS on the uploads bucket (the browser PUTs there) and on results_api, beside the page's own origin (web.tf)."
  type        = list(string)
  default     = []
  validation {
    # A CORS origin must match exactly: no path, no trailing slash.
    condition     = alltrue([for o in var.web_origins : can(regex("^https?://[^/]+$", o))])
    error_message = "web_origins: origins like https://app.example.org (no path, no trailing slash)."
  }
}

variable "retention_days" {
  description = "Recordings and their results are erased this many days after upload: the uploads bucket's lifecycle rule and the Firestore TTL on results' expire_at (RETENTION_DAYS in the functions). Owners can erase sooner."
  type        = number
  default     = 30
  validation {
    condition     = var.retention_days >= 1 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days is a whole number of days, at least 1."
  }
}

variable "auth_authorized_domains" {
  description = "Extra domains allowed to sign visitors in (Identity Platform), e.g. a custom domain of the page; localhost and the project's own domains are always allowed."
  type        = list(string)
  default     = []
}

variable "app_check_site_key" {
  description = "A score-based reCAPTCHA Enterprise site key for the page's domains: turns Firebase App Check on (app_check.tf), so results_api answers only the page. Empty: off."
  type        = string
  default     = ""
}

variable "model_name" {
  description = "The model the deployment serves, any name (the `name` of its metadata.json): its folder in the models bucket (`<name>/<version>/model.tflite` + `metadata.json`) and its pointer document `models/<name>`. `coughcloud models push` takes folders of this name only."
  type        = string
  default     = "cough-classifier"
  validation {
    # The rule of shared/registry/artifacts.py's check_model_name (tests/infra/test_model_name.py).
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$", var.model_name)) && length(regexall("[.][.]", var.model_name)) == 0
    error_message = "model_name must be 1-64 letters, digits, '.', '_', '+' or '-', starting with a letter or digit, without '..'."
  }
}

variable "model_version" {
  description = "The first champion: the version the model pointer document starts with (and what serves while there is none). After that, `coughcloud models promote|canary|shadow|rollback` moves the aliases without a deploy; changing this later does not move the champion."
  type        = string
  default     = "1.5.0"
}

variable "model_pointer_ttl_s" {
  description = "Seconds preprocess and predict cache the model pointer document: a `coughcloud models` change is followed within this time."
  type        = number
  default     = 10

  validation {
    condition     = var.model_pointer_ttl_s >= 0 && var.model_pointer_ttl_s <= 30
    error_message = "model_pointer_ttl_s must be from 0 to 30 seconds."
  }
}

variable "warm_up_interval_s" {
  description = "results_api warms preprocess and predict at most once per this many seconds per instance (POST /warm, POST /uploads)."
  type        = number
  default     = 60
  validation {
    condition     = var.warm_up_interval_s >= 1
    error_message = "warm_up_interval_s: at least 1 second."
  }
}

variable "max_upload_bytes" {
  description = "Largest upload accepted (bytes): bound into the signed URL and checked by preprocess."
  type        = number
  default     = 20971520
}

variable "max_duration_s" {
  description = "Longest recording accepted, in seconds."
  type        = number
  default     = 30
}

variable "signed_url_expiry_s" {
  description = "Lifetime of a signed upload URL, in seconds."
  type        = number
  default     = 900
}

variable "max_delivery_attempts" {
  description = "Attempts the functions give one event that fails on their side (a service unavailable) before they dead-letter it and mark its result failed."
  type        = number
  default     = 5
}

variable "push_max_delivery_attempts" {
  description = "Deliveries Pub/Sub makes of a features message before it dead-letters it. Pub/Sub counts a delivery answered 429 (predict at max instances) too, so this is Pub/Sub's maximum: overload delays an upload for hours of backoff instead of failing it; predict itself gives up after max_delivery_attempts failures of its own."
  type        = number
  default     = 100
  validation {
    condition     = var.push_max_delivery_attempts >= 5 && var.push_max_delivery_attempts <= 100
    error_message = "push_max_delivery_attempts: Pub/Sub accepts 5 to 100."
  }
}

variable "push_minimum_backoff_s" {
  description = "Pub/Sub's first wait before redelivering a refused push; it doubles up to push_maximum_backoff_s."
  type        = number
  default     = 10
}

variable "push_maximum_backoff_s" {
  description = "Pub/Sub's longest wait between redeliveries of a refused push (at most 600 s)."
  type        = number
  default     = 600
  validation {
    condition     = var.push_maximum_backoff_s > 0 && var.push_maximum_backoff_s <= 600
    error_message = "push_maximum_backoff_s: Pub/Sub accepts up to 600 seconds."
  }
}

variable "dead_letter_retention" {
  description = "How long dead-lettered messages stay in the inspection subscriptions (max 7 days)."
  type        = string
  default     = "604800s"
}

variable "log_level" {
  description = "LOG_LEVEL of every function."
  type        = string
  default     = "INFO"
}

variable "function_sizing" {
  description = "Per-function overrides of the sizing defaults (local.sizing_defaults in functions.tf), e.g. { predict = { cpu = \"1\" } }. Warm instances are var.min_instances."
  type = map(object({
    memory        = optional(string)
    cpu           = optional(string)
    timeout_s     = optional(number)
    concurrency   = optional(number)
    max_instances = optional(number)
  }))
  default = {}
  validation {
    condition     = alltrue([for name in keys(var.function_sizing) : contains(["preprocess", "predict", "results_api", "dead_letter"], name)])
    error_message = "function_sizing keys are function entry points: preprocess, predict, results_api, dead_letter."
  }
}

variable "min_instances" {
  description = "Instances kept warm per function, e.g. { predict = 1 }; a function not named keeps 0 (scales to zero: the first event after an idle spell pays a cold start). Each warm instance is billed at Cloud Run's idle rate around the clock: ~$6.6 a month at 512Mi / 0.5 vCPU (infra/cost.py; docs/guides/deploy.md, \"Sizing\")."
  type        = map(number)
  default     = {}
  validation {
    condition     = alltrue([for name, count in var.min_instances : contains(["preprocess", "predict", "results_api", "dead_letter"], name) && count >= 0 && floor(count) == count])
    error_message = "min_instances maps function entry points (preprocess, predict, results_api, dead_letter) to a whole number >= 0."
  }
}

variable "notification_channels" {
  description = "Cloud Monitoring notification channel ids (projects/P/notificationChannels/N) every alert notifies; empty: alerts open incidents in the console only."
  type        = list(string)
  default     = []
}

variable "failure_rate_threshold" {
  description = "Alert when more than this fraction of finished uploads failed over the last 10 minutes."
  type        = number
  default     = 0.2
  validation {
    condition     = var.failure_rate_threshold > 0 && var.failure_rate_threshold < 1
    error_message = "failure_rate_threshold is a fraction between 0 and 1."
  }
}

variable "oldest_unacked_age_threshold_s" {
  description = "Alert when an event or features message has waited this many seconds undelivered (a stage at max instances delays uploads instead of failing them: this says so)."
  type        = number
  default     = 300
}

variable "p95_latency_threshold_ms" {
  description = "Alert when the 95th percentile of upload-to-result time (timings.pipeline_ms) is above this many milliseconds for 10 minutes."
  type        = number
  default     = 15000
}
