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

variable "upload_retention_days" {
  description = "Uploads are deleted after this many days: they are only inputs; results live in Firestore."
  type        = number
  default     = 7
}

variable "model_name" {
  description = "Model folder name in the models bucket (`<name>/<version>/model.tflite` + `metadata.json`)."
  type        = string
  default     = "cough-classifier"
}

variable "model_version" {
  description = "Model version predict serves. Changing it deploys a new predict revision; set the previous value to roll back."
  type        = string
  default     = "1.0.0"
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
  description = "Deliveries of one event before it is dead-lettered and its result marked failed."
  type        = number
  default     = 5
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
  description = "Instances kept warm per function, e.g. { predict = 1 }; a function not named keeps 0 (scales to zero: the first event after an idle spell pays a cold start). Each warm instance is billed at Cloud Run's idle rate around the clock: ~$5.5 a month at 512Mi / 0.333 vCPU (infra/cost.py; README, \"Sizing and cold start\")."
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

variable "p95_latency_threshold_ms" {
  description = "Alert when the 95th percentile of upload-to-result time (timings.pipeline_ms) is above this many milliseconds for 10 minutes."
  type        = number
  default     = 15000
}
