# Log-based metrics, a dashboard and alerts, all built from the structured lines
# shared/logs.py writes (jsonPayload.event names the line; tests/infra/test_monitoring.py
# matches every filter below against lines the real functions produce).

locals {
  metric_prefix = "logging.googleapis.com/user"
}

resource "google_logging_metric" "uploads_received" {
  name   = "coughcloud/uploads_received"
  filter = "jsonPayload.event=\"upload_received\""
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Uploads received (each delivery attempt)"
    labels {
      key         = "attempt"
      value_type  = "INT64"
      description = "Delivery attempt of the storage event"
    }
  }
  label_extractors = {
    attempt = "EXTRACT(jsonPayload.attempt)"
  }
  depends_on = [google_project_service.apis]
}

resource "google_logging_metric" "results" {
  name   = "coughcloud/results"
  filter = "jsonPayload.event=\"result_published\""
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Finished uploads by status and error code"
    labels {
      key         = "status"
      description = "done or failed"
    }
    labels {
      key         = "code"
      description = "Error code of a failure (empty when done)"
    }
    labels {
      key         = "stage"
      description = "Function that finished the upload"
    }
  }
  label_extractors = {
    status = "EXTRACT(jsonPayload.status)"
    code   = "EXTRACT(jsonPayload.code)"
    stage  = "EXTRACT(jsonPayload.stage)"
  }
  depends_on = [google_project_service.apis]
}

locals {
  # Latency distributions, one metric each; a label's key is also the jsonPayload field it holds.
  latency_metrics = {
    end_to_end_latency = {
      display_name = "Upload recorded to result, ms"
      filter       = "jsonPayload.event=\"prediction_done\" AND jsonPayload.timings.pipeline_ms>=0"
      value        = "jsonPayload.timings.pipeline_ms"
      labels       = { model_version = "Model version that answered" }
    }
    # Each function's own handling time (latency_ms) of a successful pass.
    stage_latency = {
      display_name = "Time in each function, ms"
      filter       = "(jsonPayload.event=\"features_published\" OR jsonPayload.event=\"prediction_done\") AND jsonPayload.latency_ms>=0"
      value        = "jsonPayload.latency_ms"
      labels       = { stage = "preprocess or predict" }
    }
    # Time a features message waited in Pub/Sub between preprocess and predict.
    queue_latency = {
      display_name = "Features message queue time, ms"
      filter       = "jsonPayload.event=\"prediction_done\" AND jsonPayload.timings.queue_ms>=0"
      value        = "jsonPayload.timings.queue_ms"
      labels       = {}
    }
  }
}

resource "google_logging_metric" "latency" {
  for_each        = local.latency_metrics
  name            = "coughcloud/${each.key}"
  filter          = each.value.filter
  value_extractor = "EXTRACT(${each.value.value})"
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "ms"
    display_name = each.value.display_name
    dynamic "labels" {
      for_each = each.value.labels
      content {
        key         = labels.key
        description = labels.value
      }
    }
  }
  label_extractors = { for key, _ in each.value.labels : key => "EXTRACT(jsonPayload.${key})" }
  # From a few ms (a warm predict) to minutes (a redelivered upload).
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 40
      growth_factor      = 1.4
      scale              = 1
    }
  }
  depends_on = [google_project_service.apis]
}

# Labels and confidence per model version: a new version that answers differently shows here.
# The labels are the model's own (any model name, any labels); `answer` says what a label means
# whatever they are (found, negative: one of its negative_labels, or inconclusive).
resource "google_logging_metric" "confidence" {
  name            = "coughcloud/confidence"
  filter          = "jsonPayload.event=\"prediction_done\""
  value_extractor = "EXTRACT(jsonPayload.confidence)"
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "DISTRIBUTION"
    unit         = "1"
    display_name = "Predictions: confidence by label and model version"
    labels {
      key         = "label"
      description = "Predicted label: one of the model's labels, or inconclusive"
    }
    labels {
      key         = "answer"
      description = "found, negative (one of the model's negative_labels) or inconclusive"
    }
    labels {
      key         = "model_name"
      description = "Model that answered"
    }
    labels {
      key         = "model_version"
      description = "Model version that answered"
    }
  }
  label_extractors = {
    label         = "EXTRACT(jsonPayload.label)"
    answer        = "EXTRACT(jsonPayload.answer)"
    model_name    = "EXTRACT(jsonPayload.model_name)"
    model_version = "EXTRACT(jsonPayload.model_version)"
  }
  bucket_options {
    linear_buckets {
      num_finite_buckets = 20
      width              = 0.05
      offset             = 0
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_logging_metric" "dead_lettered" {
  name   = "coughcloud/dead_lettered"
  filter = "jsonPayload.event=\"dead_lettered\""
  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "Dead-lettered events"
    labels {
      key         = "source"
      description = "Dead-letter topic the event came from (uploads or features)"
    }
    labels {
      key         = "marked"
      value_type  = "BOOL"
      description = "Whether the upload was marked failed (false: it had already finished)"
    }
  }
  label_extractors = {
    source = "EXTRACT(jsonPayload.source)"
    marked = "EXTRACT(jsonPayload.marked)"
  }
  depends_on = [google_project_service.apis]
}

locals {
  # One chart per series: title → (Monitoring filter, aligner, reducer, how series are grouped).
  dashboard_charts = {
    "Uploads received"              = { filter = "metric.type=\"${local.metric_prefix}/${google_logging_metric.uploads_received.name}\"", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = [] }
    "Results by status and code"    = { filter = "metric.type=\"${local.metric_prefix}/${google_logging_metric.results.name}\"", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.status", "metric.label.code"] }
    "Upload to result p95 (ms)"     = { filter = "metric.type=\"${local.metric_prefix}/${google_logging_metric.latency["end_to_end_latency"].name}\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95", group_by = [] }
    "Upload to result p50 (ms)"     = { filter = "metric.type=\"${local.metric_prefix}/${google_logging_metric.latency["end_to_end_latency"].name}\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_50", group_by = [] }
    "Time per function p95 (ms)"    = { filter = "metric.type=\"${local.metric_prefix}/${google_logging_metric.latency["stage_latency"].name}\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95", group_by = ["metric.label.stage"] }
    "Queue time p95 (ms)"           = { filter = "metric.type=\"${local.metric_prefix}/${google_logging_metric.latency["queue_latency"].name}\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_PERCENTILE_95", group_by = [] }
    "Labels per model version"      = { filter = "metric.type=\"${local.metric_prefix}/${google_logging_metric.confidence.name}\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_COUNT", group_by = ["metric.label.model_name", "metric.label.model_version", "metric.label.label"] }
    "Found, negative, inconclusive" = { filter = "metric.type=\"${local.metric_prefix}/${google_logging_metric.confidence.name}\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_COUNT", group_by = ["metric.label.model_name", "metric.label.model_version", "metric.label.answer"] }
    "Mean confidence per version"   = { filter = "metric.type=\"${local.metric_prefix}/${google_logging_metric.confidence.name}\"", aligner = "ALIGN_DELTA", reducer = "REDUCE_MEAN", group_by = ["metric.label.model_name", "metric.label.model_version", "metric.label.label"] }
    "Dead-lettered events"          = { filter = "metric.type=\"${local.metric_prefix}/${google_logging_metric.dead_lettered.name}\"", aligner = "ALIGN_RATE", reducer = "REDUCE_SUM", group_by = ["metric.label.source"] }
    "Dead-letter messages to check" = { filter = "metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\" AND resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=ends_with(\"-dead-letter-inspect\")", aligner = "ALIGN_MAX", reducer = "REDUCE_SUM", group_by = ["resource.label.subscription_id"] }
  }
}

resource "google_monitoring_dashboard" "pipeline" {
  dashboard_json = jsonencode({
    displayName = "CoughCloud pipeline"
    mosaicLayout = {
      columns = 12
      tiles = [for index, title in keys(local.dashboard_charts) : {
        xPos   = (index % 2) * 6
        yPos   = floor(index / 2) * 4
        width  = 6
        height = 4
        widget = {
          title = title
          xyChart = {
            dataSets = [{
              plotType = "LINE"
              timeSeriesQuery = {
                timeSeriesFilter = {
                  filter = local.dashboard_charts[title].filter
                  aggregation = {
                    alignmentPeriod    = "60s"
                    perSeriesAligner   = local.dashboard_charts[title].aligner
                    crossSeriesReducer = local.dashboard_charts[title].reducer
                    groupByFields      = local.dashboard_charts[title].group_by
                  }
                }
              }
            }]
          }
        }
      }]
    }
  })
}

# A message in a dead-letter inspection subscription is an upload that failed for good:
# someone should look at it (`gcloud pubsub subscriptions pull ... --auto-ack` clears it).
resource "google_monitoring_alert_policy" "dead_letter_not_empty" {
  for_each     = google_pubsub_subscription.dead_letter_inspect
  display_name = "CoughCloud: messages in ${each.value.name}"
  combiner     = "OR"
  conditions {
    display_name = "${each.value.name} has undelivered messages"
    condition_threshold {
      filter          = "resource.type=\"pubsub_subscription\" AND resource.label.subscription_id=\"${each.value.name}\" AND metric.type=\"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "0s"
      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
  notification_channels = var.notification_channels
}

resource "google_monitoring_alert_policy" "failure_rate" {
  display_name = "CoughCloud: failure rate above ${var.failure_rate_threshold}"
  combiner     = "OR"
  conditions {
    display_name = "Failed / finished uploads"
    condition_threshold {
      filter             = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.metric_prefix}/${google_logging_metric.results.name}\" AND metric.label.status=\"failed\""
      denominator_filter = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.metric_prefix}/${google_logging_metric.results.name}\""
      comparison         = "COMPARISON_GT"
      threshold_value    = var.failure_rate_threshold
      duration           = "0s"
      aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
      denominator_aggregations {
        alignment_period     = "600s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_SUM"
      }
    }
  }
  notification_channels = var.notification_channels
}

resource "google_monitoring_alert_policy" "p95_latency" {
  display_name = "CoughCloud: p95 upload-to-result above ${var.p95_latency_threshold_ms} ms"
  combiner     = "OR"
  conditions {
    display_name = "p95 of ${google_logging_metric.latency["end_to_end_latency"].name}"
    condition_threshold {
      filter          = "resource.type=\"cloud_run_revision\" AND metric.type=\"${local.metric_prefix}/${google_logging_metric.latency["end_to_end_latency"].name}\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.p95_latency_threshold_ms
      duration        = "600s"
      aggregations {
        alignment_period     = "300s"
        per_series_aligner   = "ALIGN_DELTA"
        cross_series_reducer = "REDUCE_PERCENTILE_95"
      }
    }
  }
  notification_channels = var.notification_channels
}

# Overload delays uploads instead of failing them (Eventarc retries for 24 h, Pub/Sub for
# push_max_delivery_attempts): this says when they wait. An event or features message
# still undelivered after the threshold means a stage at max instances or failing.
resource "google_monitoring_alert_policy" "oldest_unacked" {
  display_name = "CoughCloud: an upload waiting over ${var.oldest_unacked_age_threshold_s} s to be processed"
  combiner     = "OR"
  conditions {
    display_name = "Oldest unacknowledged event or features message"
    condition_threshold {
      # Eventarc's subscription for the preprocess trigger is named eventarc-<region>-preprocess-…
      filter          = "resource.type=\"pubsub_subscription\" AND metric.type=\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\" AND resource.label.subscription_id=monitoring.regex.full_match(\"${google_pubsub_subscription.push["predict-audio-features"].name}|eventarc-.*-preprocess-.*\")"
      comparison      = "COMPARISON_GT"
      threshold_value = var.oldest_unacked_age_threshold_s
      duration        = "60s"
      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
  notification_channels = var.notification_channels
}

# Cloud Run writes a request log for every call; the page polls GET /results about three
# to seven times an upload. A successful poll's request log tells nothing the result
# document does not (Cloud Logging bills $0.50/GiB past 50 GiB a month): it is not ingested.
# Failed polls (4xx/5xx) and every other request are kept.
resource "google_logging_project_exclusion" "poll_request_logs" {
  name        = "coughcloud-successful-polls"
  description = "Successful GET /results request logs of results-api (the page's polling)"
  filter      = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"results-api\" AND log_id(\"run.googleapis.com/requests\") AND httpRequest.requestMethod=\"GET\" AND httpRequest.status<400 AND httpRequest.requestUrl:\"/results?name=\""
}
