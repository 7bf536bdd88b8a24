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
  description = "Origins of the web page, allowed by CORS on the uploads bucket (the browser PUTs there) and on results_api."
  type        = list(string)
  default     = []
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

# Sizing. Serving imports numpy, PyAV and LiteRT only (~65 MB RSS measured; no TensorFlow),
# and one call is ~10–30 ms of CPU at 1 vCPU, so the pipeline functions take the
# platform's 512 MiB / 0.333 vCPU pair: a call still fits Cloud Run's 100 ms billing
# granularity, and below 1 vCPU an instance serves one request at a time (a platform rule).
# min_instances = 0 scales to zero; a cold start costs ~0.3 s of imports locally (longer
# at a fraction of a vCPU): set min_instances = 1 on predict/results_api if that matters.
variable "preprocess" {
  description = "Sizing of preprocess (decode + MFCC of one upload)."
  type = object({
    memory        = optional(string, "512Mi")
    cpu           = optional(string, "0.333")
    timeout_s     = optional(number, 60)
    concurrency   = optional(number, 1)
    min_instances = optional(number, 0)
    max_instances = optional(number, 20)
  })
  default = {}
}

variable "predict" {
  description = "Sizing of predict (one LiteRT call and two writes)."
  type = object({
    memory        = optional(string, "512Mi")
    cpu           = optional(string, "0.333")
    timeout_s     = optional(number, 30)
    concurrency   = optional(number, 1)
    min_instances = optional(number, 0)
    max_instances = optional(number, 20)
  })
  default = {}
}

# results_api waits on Firestore and IAM signBlob, not on its CPU. A million
# classifications a month is 0.4 a second, so requests rarely overlap and the cheapest
# size is the same fraction of a vCPU with one request at a time. When traffic is steady
# enough for requests to overlap, cpu = "1" with concurrency = 20 shares one instance.
variable "results_api" {
  description = "Sizing of results_api (HTTP: reads, signed upload URLs)."
  type = object({
    memory        = optional(string, "512Mi")
    cpu           = optional(string, "0.333")
    timeout_s     = optional(number, 10)
    concurrency   = optional(number, 1)
    min_instances = optional(number, 0)
    max_instances = optional(number, 20)
  })
  default = {}
}

variable "dead_letter" {
  description = "Sizing of dead_letter (marks a document failed; rarely runs)."
  type = object({
    memory        = optional(string, "256Mi")
    cpu           = optional(string, "0.167")
    timeout_s     = optional(number, 30)
    concurrency   = optional(number, 1)
    min_instances = optional(number, 0)
    max_instances = optional(number, 3)
  })
  default = {}
}
