"""monitoring.tf: log-based metrics match the lines shared/logs.py writes; dashboard and alerts use them.

The log lines are produced by calling the real shared/logs.py functions and parsing their
stdout; each metric's filter is evaluated against them with the small subset of the Cloud
Logging query language monitoring.tf uses: `a.b="text"`, `a.b>=number`, `AND`, and one
parenthesised `(x OR y)` group.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from shared import logs
from shared.config import settings
from tests.infra.terraform import REPO, TF_DIR, locals_, resources, unwrap, variable_default


def _metrics() -> dict[str, dict[str, Any]]:
    """Every log-based metric by its short name, the latency for_each expanded from its local."""
    found = {name: body for name, body in resources("google_logging_metric").items() if name != "latency"}
    latency = resources("google_logging_metric")["latency"]
    assert unwrap(latency["for_each"]) == "${local.latency_metrics}"
    assert unwrap(latency["filter"]) == "${each.value.filter}"
    assert unwrap(latency["value_extractor"]) == "EXTRACT(${each.value.value})"
    # label keys are the jsonPayload fields they extract
    assert unwrap(latency["label_extractors"]) == (
        '${{for key , _ in each.value.labels : key => "EXTRACT(jsonPayload.${key})"}}'
    )
    descriptor = unwrap(latency["metric_descriptor"])
    dynamic_labels = unwrap(descriptor["dynamic"])["labels"]
    assert unwrap(dynamic_labels["for_each"]) == "${each.value.labels}"
    assert unwrap(unwrap(dynamic_labels["content"])["key"]) == "${labels.key}"
    for name, spec in locals_()["latency_metrics"].items():
        found[name] = {
            "name": f"coughcloud/{name}",
            "filter": spec["filter"],
            "value_extractor": f"EXTRACT({spec['value']})",
            "label_extractors": {key: f"EXTRACT(jsonPayload.{key})" for key in spec["labels"]},
            "metric_descriptor": {
                "value_type": descriptor["value_type"],
                "labels": [{"key": key} for key in spec["labels"]],
            },
            "bucket_options": latency["bucket_options"],
        }
    return found


METRICS = _metrics()
ALERTS = resources("google_monitoring_alert_policy")
PREFIX = "logging.googleapis.com/user"
_TERM = re.compile(r'^jsonPayload\.([A-Za-z_.]+)(=|>=)(?:"([^"]*)"|(-?[0-9.]+))$')
_EXTRACT = re.compile(r"^EXTRACT\(jsonPayload\.([A-Za-z_.]+)\)$")
_METRIC_REF = re.compile(
    r'metric\.type="\$\{local\.metric_prefix\}/\$\{google_logging_metric\.([a-z_]+)(?:\["([a-z_]+)"\])?\.name\}"'
)


def metric_named(expression: str) -> str:
    """The short name of the log-based metric a Monitoring filter selects."""
    match = _METRIC_REF.search(text(expression))
    assert match, expression
    return match.group(2) or match.group(1)


def text(value: Any) -> str:
    """hcl2 keeps a string's `\\"` escapes; undo them."""
    return str(unwrap(value)).replace('\\"', '"')


@pytest.fixture(scope="module")
def lines() -> list[dict[str, Any]]:
    """One of each line the metrics count, from the real log functions (stdout captured)."""
    import contextlib
    import io
    import os

    previous = os.environ.get("LOG_LEVEL")
    os.environ["LOG_LEVEL"] = "INFO"
    settings.cache_clear()
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            logs.log_upload_received("uploads/a.wav", 7, "a.wav", 1234, "audio/wav", 1, "t1")
            logs.log_features_published(
                "uploads/a.wav", 7, "m1", 85.2, {"decode_ms": 40.1, "features_ms": 30.0}, "t1"
            )
            # The result document's timings, as predict logs them: preprocess's, queue, predict, pipeline.
            doc_timings = {"decode_ms": 40.1, "preprocess_ms": 85.2, "queue_ms": 210.5, "predict_ms": 33.0}
            logs.log_prediction_done(
                "uploads/a.wav", 7, "speech", 0.91, "negative", "sound-classifier", "1.0.0", 33.0,
                doc_timings | {"pipeline_ms": 612.0}, "t1",
            )  # fmt: skip
            logs.log_result_published("uploads/a.wav", "predict", 7, "done", None, "m2", "t1")
            logs.log_upload_failed("uploads/b.wav", "preprocess", 3, "too_short", "Too short.", 12.0, "t2")
            logs.log_result_published("uploads/b.wav", "preprocess", 3, "failed", "too_short", "m3", "t2")
            logs.log_dead_lettered("uploads/c.wav", 2, "features", True, "t3")
            logs.log_gave_up("uploads/c.wav", "predict", 2, 5, None, "t3")
    finally:
        if previous is None:
            os.environ.pop("LOG_LEVEL")
        else:
            os.environ["LOG_LEVEL"] = previous
        settings.cache_clear()
    return [json.loads(line) for line in out.getvalue().splitlines()]


_MISSING = object()


def field(line: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path; _MISSING when the line has no such field (null is a value)."""
    value: Any = line
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def term_matches(term: str, line: dict[str, Any]) -> bool:
    if term.startswith("(") and term.endswith(")"):
        return any(term_matches(t, line) for t in term[1:-1].split(" OR "))
    match = _TERM.match(term)
    assert match, f"monitoring.tf uses a filter term this check cannot read: {term!r}"
    name, operator, string, number = match.groups()
    value = field(line, name)
    if operator == "=":
        return value == string
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= float(number)


def filter_matches(expression: str, line: dict[str, Any]) -> bool:
    return all(term_matches(term, line) for term in expression.split(" AND "))


def extracted_fields(metric: dict[str, Any]) -> list[str]:
    extractors = list(unwrap(metric.get("label_extractors", {})).values())
    if "value_extractor" in metric:
        extractors.append(unwrap(metric["value_extractor"]))
    names = []
    for extractor in extractors:
        match = _EXTRACT.match(extractor)
        assert match, extractor
        names.append(match.group(1))
    return names


def test_the_metrics_cover_what_issue_12_asks_for():
    assert set(METRICS) == {
        "uploads_received",
        "results",
        "end_to_end_latency",
        "stage_latency",
        "queue_latency",
        "confidence",
        "dead_lettered",
    }
    assert set(unwrap(METRICS["results"]["label_extractors"])) >= {"status", "code"}
    assert set(unwrap(METRICS["confidence"]["label_extractors"])) == {
        "label",
        "answer",
        "model_name",
        "model_version",
    }


def test_the_label_charts_hold_for_any_model_and_any_labels(lines: list[dict]) -> None:
    """No label is named in monitoring.tf: the charts group by the labels the lines carry, and by
    `answer` (found / negative / inconclusive), which means the same whatever the model's labels."""
    source = (TF_DIR / "monitoring.tf").read_text()
    for label in ("dry", "wet", "not_cough", "cough-classifier"):
        assert f'"{label}"' not in source and f"={label}" not in source, label
    charts = locals_()["dashboard_charts"]
    answers = [chart for chart in charts.values() if "metric.label.answer" in chart["group_by"]]
    assert len(answers) == 1 and metric_named(answers[0]["filter"]) == "confidence"
    for chart in charts.values():
        if "metric.label.label" in chart["group_by"]:
            assert {"metric.label.model_name", "metric.label.model_version"} <= set(chart["group_by"])
    done = next(line for line in lines if line["event"] == "prediction_done")
    assert (done["label"], done["answer"], done["model_name"]) == ("speech", "negative", "sound-classifier")


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_metric_matches_a_real_line_and_extracts_fields_it_has(name: str, lines: list[dict]) -> None:
    metric = METRICS[name]
    matched = [line for line in lines if filter_matches(text(metric["filter"]), line)]
    assert matched, f"{name}: its filter matches no line shared/logs.py writes"
    for line in matched:
        for dotted in extracted_fields(metric):
            assert field(line, dotted) is not _MISSING, f"{name}: {line['message']!r} has no {dotted}"


@pytest.mark.parametrize("name", sorted(METRICS))
def test_every_metric_declares_the_labels_it_extracts_and_distributions_have_buckets(name: str) -> None:
    metric = METRICS[name]
    descriptor = unwrap(metric["metric_descriptor"])
    declared = {unwrap(label["key"]) for label in descriptor.get("labels", [])}
    assert declared == set(unwrap(metric.get("label_extractors", {}))), name
    assert unwrap(metric["name"]) == f"coughcloud/{name}"
    distribution = unwrap(descriptor["value_type"]) == "DISTRIBUTION"
    assert distribution == ("value_extractor" in metric) == ("bucket_options" in metric), name


def test_filters_do_not_match_lines_they_should_not(lines: list[dict]) -> None:
    """The counters count one line per event: no metric double-counts through a loose filter."""
    for name in ("uploads_received", "results", "dead_lettered", "confidence"):
        matched = [line for line in lines if filter_matches(text(METRICS[name]["filter"]), line)]
        events = {line["event"] for line in matched}
        assert len(events) == 1, (name, events)
    results = [line for line in lines if filter_matches(text(METRICS["results"]["filter"]), line)]
    assert [(r["status"], r["code"]) for r in results] == [("done", None), ("failed", "too_short")]
    timed = [line for line in lines if filter_matches(text(METRICS["stage_latency"]["filter"]), line)]
    assert [line["stage"] for line in timed] == ["preprocess", "predict"]


def test_the_dashboard_charts_only_metrics_that_exist():
    charts = locals_()["dashboard_charts"]
    referenced = set()
    for title, chart in charts.items():
        if _METRIC_REF.search(text(chart["filter"])):
            referenced.add(metric_named(chart["filter"]))
        else:
            pubsub_metric = "pubsub.googleapis.com/subscription/num_undelivered_messages"
            assert pubsub_metric in text(chart["filter"]), title
    assert referenced == set(METRICS)
    dashboard = unwrap(resources("google_monitoring_dashboard")["pipeline"]["dashboard_json"])
    assert "local.dashboard_charts" in dashboard


def test_dead_letter_alert_watches_each_inspection_subscription():
    alert = ALERTS["dead_letter_not_empty"]
    assert unwrap(alert["for_each"]) == "${google_pubsub_subscription.dead_letter_inspect}"
    inspect = resources("google_pubsub_subscription")["dead_letter_inspect"]
    assert unwrap(inspect["for_each"]) == "${google_pubsub_topic.dead_letter}"
    assert set(unwrap(resources("google_pubsub_topic")["dead_letter"]["for_each"])) == {"uploads", "features"}
    condition = unwrap(unwrap(alert["conditions"])["condition_threshold"])
    expression = text(condition["filter"])
    assert 'metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages"' in expression
    assert 'resource.label.subscription_id="${each.value.name}"' in expression
    assert (unwrap(condition["comparison"]), unwrap(condition["threshold_value"])) == ("COMPARISON_GT", 0)


def test_failure_rate_and_latency_alerts_use_the_metrics_and_thresholds():
    rate = unwrap(unwrap(ALERTS["failure_rate"]["conditions"])["condition_threshold"])
    assert metric_named(rate["filter"]) == "results"
    assert 'metric.label.status="failed"' in text(rate["filter"])
    assert metric_named(rate["denominator_filter"]) == "results"
    assert "status" not in text(rate["denominator_filter"])
    assert unwrap(rate["threshold_value"]) == "${var.failure_rate_threshold}"

    latency = unwrap(unwrap(ALERTS["p95_latency"]["conditions"])["condition_threshold"])
    assert metric_named(latency["filter"]) == "end_to_end_latency"
    assert unwrap(unwrap(latency["aggregations"])["cross_series_reducer"]) == "REDUCE_PERCENTILE_95"
    assert unwrap(latency["threshold_value"]) == "${var.p95_latency_threshold_ms}"


def test_every_alert_notifies_the_channels_variable():
    assert set(ALERTS) == {"dead_letter_not_empty", "failure_rate", "p95_latency", "oldest_unacked"}
    for name, alert in ALERTS.items():
        assert unwrap(alert["notification_channels"]) == "${var.notification_channels}", name
    assert variable_default("notification_channels") == []
    assert 0 < variable_default("failure_rate_threshold") < 1
    assert variable_default("p95_latency_threshold_ms") > 0
    assert (TF_DIR / "monitoring.tf").exists()
    assert "monitoring.tf" in (REPO / "docs/guides/operate.md").read_text()


def test_waiting_uploads_alert_on_the_oldest_unacked_message_of_both_deliveries():
    alert = ALERTS["oldest_unacked"]
    condition = unwrap(unwrap(alert["conditions"])["condition_threshold"])
    query = unwrap(condition["filter"])
    assert 'metric.type=\\"pubsub.googleapis.com/subscription/oldest_unacked_message_age\\"' in query
    assert 'google_pubsub_subscription.push["predict-audio-features"].name' in query
    assert "eventarc-" in query
    assert unwrap(condition["threshold_value"]) == "${var.oldest_unacked_age_threshold_s}"


def test_only_successful_polls_are_kept_out_of_the_logs():
    [exclusion] = resources("google_logging_project_exclusion").values()
    query = unwrap(exclusion["filter"])
    for term in (
        'service_name=\\"results-api\\"',
        'requestMethod=\\"GET\\"',
        "httpRequest.status<400",
        'requestUrl:\\"/results?name=\\"',
        'log_id(\\"run.googleapis.com/requests\\")',
    ):
        assert term in query, term
