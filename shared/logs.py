"""Every log line the pipeline writes, one named function each.

Lines are Cloud Logging structured JSON on stdout: Cloud Functions turns `severity`,
`message` and `logging.googleapis.com/trace` into the entry's own fields and keeps the
rest as `jsonPayload`. Pipeline lines always carry `key`, `stage`, `generation` and
`latency_ms` (null when not measured), so one upload can be followed across functions.
Lines that log-based metrics count (infra/terraform/monitoring.tf) also carry `event`, a
stable name the metric filters match instead of the human-readable message.
"""

from __future__ import annotations

import json
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from shared.config import settings

_LEVELS = {"DEBUG": 10, "INFO": 20, "NOTICE": 25, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


def _emit(severity: str, message: str, trace_id: str | None = None, **fields: Any) -> None:
    if _LEVELS[severity] < _LEVELS.get(settings().LOG_LEVEL.upper(), 20):
        return
    entry: dict[str, Any] = {
        "severity": severity,
        "message": message,
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    if trace_id:
        entry["logging.googleapis.com/trace"] = (
            f"projects/{settings().GOOGLE_CLOUD_PROJECT}/traces/{trace_id}"
        )
        entry["trace_id"] = trace_id
    entry.update(fields)
    sys.stdout.write(json.dumps(entry, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _pipeline(
    severity: str,
    message: str,
    *,
    key: str | None,
    stage: str,
    generation: int | None,
    latency_ms: float | None = None,
    trace_id: str | None = None,
    **fields: Any,
) -> None:
    _emit(
        severity,
        message,
        trace_id,
        key=key,
        stage=stage,
        generation=generation,
        latency_ms=None if latency_ms is None else round(latency_ms, 3),
        **fields,
    )


def _error_fields(error: BaseException) -> dict[str, str]:
    return {
        "error_type": type(error).__name__,
        "error": str(error),
        "stack_trace": "".join(traceback.format_exception(error)),
    }


# --- events that are not for us -------------------------------------------------------------


def log_startup_step_failed(step: str, error: BaseException) -> None:
    """A start-up step done ahead of need failed; the request that needs it will try again."""
    message = f"Start-up step {step} failed; the first request that needs it retries it"
    _emit("WARNING", message, step=step, **_error_fields(error))


def log_warm_up_failed(function: str, url: str, reason: str) -> None:
    """results_api could not warm `function`; the visitor never sees it (the upload still works)."""
    message = f"Warm-up of {function} failed: {reason}"
    _emit("WARNING", message, stage="results_api", event="warm_up_failed", function=function, url=url)


def log_warmed_up(stage: str, latency_ms: float) -> None:
    """A warm-up event finished this instance's start-up (clients, model): what the first upload saves."""
    message = f"{stage} warmed up in {latency_ms:.0f} ms"
    _emit("INFO", message, stage=stage, event="warmed_up", latency_ms=round(latency_ms, 3))


def log_event_ignored(stage: str, event_type: str, reason: str) -> None:
    _emit("WARNING", f"Ignored a {event_type} event: {reason}", stage=stage, event_type=event_type)


def log_unreadable_message(stage: str, reason: str, attributes: dict[str, str]) -> None:
    _emit("ERROR", f"Dropped an unreadable message: {reason}", stage=stage, attributes=attributes)


# --- preprocess -----------------------------------------------------------------------------


def log_upload_received(
    key: str, generation: int, name: str, size: int, content_type: str, attempt: int, trace_id: str
) -> None:
    _pipeline(
        "INFO",
        f"Upload received: {name} ({size} bytes, {content_type or 'no content type'}), attempt {attempt}",
        key=key,
        stage="preprocess",
        generation=generation,
        trace_id=trace_id,
        event="upload_received",
        name=name,
        size=size,
        content_type=content_type,
        attempt=attempt,
    )


def log_features_published(
    key: str, generation: int, message_id: str, latency_ms: float, timings: dict[str, float], trace_id: str
) -> None:
    _pipeline(
        "INFO",
        f"Features published as message {message_id}",
        key=key,
        stage="preprocess",
        generation=generation,
        latency_ms=latency_ms,
        trace_id=trace_id,
        event="features_published",
        message_id=message_id,
        timings=timings,
    )


# --- both stages ----------------------------------------------------------------------------


def log_stale_generation(
    key: str, stage: str, generation: int, recorded_generation: int, trace_id: str | None
) -> None:
    _pipeline(
        "INFO",
        f"Ignored stale generation {generation}: generation {recorded_generation} is already recorded",
        key=key,
        stage=stage,
        generation=generation,
        trace_id=trace_id,
        recorded_generation=recorded_generation,
    )


def log_erased_meanwhile(key: str, stage: str, generation: int, trace_id: str | None) -> None:
    _pipeline(
        "INFO",
        "Dropped the work on an upload its owner erased meanwhile",
        key=key,
        stage=stage,
        generation=generation,
        trace_id=trace_id,
    )


def log_upload_refused(key: str, generation: int, reason: str, trace_id: str | None) -> None:
    """An owned upload preprocess deleted unread: a second generation of its name, or a name
    (or account) erased within a signed URL's lifetime, re-created by a replayed URL."""
    _pipeline(
        "WARNING",
        f"Deleted an upload without classifying it ({reason})",
        key=key,
        stage="preprocess",
        generation=generation,
        trace_id=trace_id,
        event="upload_refused",
        reason=reason,
    )


def log_duplicate_delivery(key: str, stage: str, generation: int, status: str, trace_id: str | None) -> None:
    _pipeline(
        "INFO",
        f"Ignored a repeated delivery: the result is already {status}",
        key=key,
        stage=stage,
        generation=generation,
        trace_id=trace_id,
        status=status,
    )


def log_upload_failed(
    key: str, stage: str, generation: int, code: str, message: str, latency_ms: float, trace_id: str | None
) -> None:
    _pipeline(
        "WARNING",
        f"Upload failed ({code}): {message}",
        key=key,
        stage=stage,
        generation=generation,
        latency_ms=latency_ms,
        trace_id=trace_id,
        event="upload_failed",
        code=code,
    )


def log_retrying(
    key: str, stage: str, generation: int, attempt: int, error: BaseException, trace_id: str | None
) -> None:
    _pipeline(
        "WARNING",
        f"Attempt {attempt} failed ({type(error).__name__}: {error}); raising so the event is redelivered",
        key=key,
        stage=stage,
        generation=generation,
        trace_id=trace_id,
        attempt=attempt,
        **_error_fields(error),
    )


def log_unexpected_error(
    key: str, stage: str, generation: int, error: BaseException, trace_id: str | None
) -> None:
    _pipeline(
        "ERROR",
        f"Unexpected {type(error).__name__}; marked failed (internal) without retrying",
        key=key,
        stage=stage,
        generation=generation,
        trace_id=trace_id,
        **_error_fields(error),
    )


def log_gave_up(
    key: str, stage: str, generation: int, attempts: int, error: BaseException | None, trace_id: str | None
) -> None:
    _pipeline(
        "ERROR",
        f"Gave up after {attempts} delivery attempts; marked failed and sent to the dead-letter topic",
        key=key,
        stage=stage,
        generation=generation,
        trace_id=trace_id,
        event="gave_up",
        attempts=attempts,
        **(_error_fields(error) if error else {}),
    )


# --- predict --------------------------------------------------------------------------------


def log_model_loaded(uri: str, name: str, version: str, latency_ms: float) -> None:
    _emit(
        "INFO",
        f"Model {name} {version} loaded from {uri}",
        stage="predict",
        latency_ms=round(latency_ms, 3),
        model_uri=uri,
    )


def log_prediction_done(
    key: str,
    generation: int,
    label: str,
    confidence: float,
    answer: str,
    model_name: str,
    model_version: str,
    latency_ms: float,
    timings: dict[str, float],
    trace_id: str | None,
) -> None:
    """`answer` is what the label means whatever the model's labels: found, negative (one of its
    negative_labels) or inconclusive. `timings` are the result document's: preprocess's, queue
    and predict's, and `pipeline_ms` (upload recorded → done), the end-to-end figure."""
    _pipeline(
        "INFO",
        f"Result: {label} ({confidence:.1%})",
        key=key,
        stage="predict",
        generation=generation,
        latency_ms=latency_ms,
        trace_id=trace_id,
        event="prediction_done",
        label=label,
        confidence=confidence,
        answer=answer,
        model_name=model_name,
        model_version=model_version,
        timings=timings,
    )


def log_result_published(
    key: str,
    stage: str,
    generation: int,
    status: str,
    code: str | None,
    message_id: str,
    trace_id: str | None,
) -> None:
    """One line per finished upload (done or failed): `code` is the error code of a failure."""
    _pipeline(
        "INFO",
        f"Result ({status}) published on cough-results as message {message_id}",
        key=key,
        stage=stage,
        generation=generation,
        trace_id=trace_id,
        event="result_published",
        status=status,
        code=code,
        message_id=message_id,
    )


# --- dead_letter ----------------------------------------------------------------------------


def log_dead_lettered(key: str, generation: int, source: str, marked: bool, trace_id: str | None) -> None:
    outcome = "marked failed" if marked else "already finished, left as is"
    _pipeline(
        "ERROR" if marked else "INFO",
        f"Dead-lettered {source} message: {outcome}",
        key=key,
        stage="dead_letter",
        generation=generation,
        trace_id=trace_id,
        event="dead_lettered",
        source=source,
        marked=marked,
    )


# --- the model registry (shared/registry/) ----------------------------------------------------


def log_pointer_changed(name: str, aliases: dict[str, Any] | None) -> None:
    where = ", ".join(f"{k}={v}" for k, v in (aliases or {}).items() if v) or "no pointer: MODEL_URI serves"
    _emit("INFO", f"Model pointer of {name}: {where}", event="pointer_changed", model=name, aliases=aliases)


def log_pointer_unreadable(name: str, kept: str | None, error: BaseException) -> None:
    keeping = f"keeping champion {kept}" if kept else "MODEL_URI serves"
    _emit(
        "WARNING",
        f"Model pointer of {name} unreadable ({type(error).__name__}: {error}); {keeping}",
        event="pointer_unreadable",
        model=name,
        kept=kept,
        **_error_fields(error),
    )


def log_pointer_missing(name: str, kept: str | None) -> None:
    _emit(
        "WARNING",
        f"Model pointer of {name} is gone; keeping champion {kept}",
        event="pointer_missing",
        model=name,
        kept=kept,
    )


def log_model_fallback(stage: str, version: str, fallback: str, reason: str) -> None:
    _emit(
        "ERROR",
        f"Model version {version} cannot serve ({reason}); the champion {fallback} answers instead",
        stage=stage,
        event="model_fallback",
        model_version=version,
        fallback_version=fallback,
    )


def log_shadow_skipped(key: str, generation: int, version: str, reason: str, trace_id: str | None) -> None:
    _pipeline(
        "WARNING",
        f"Shadow model {version} not run: {reason}",
        key=key,
        stage="predict",
        generation=generation,
        trace_id=trace_id,
        event="shadow_skipped",
        shadow_version=version,
    )


# --- results_api ----------------------------------------------------------------------------


def log_upload_url_issued(key: str, name: str, content_type: str, size: int) -> None:
    _emit(
        "INFO",
        f"Signed upload URL issued for {name}",
        stage="results_api",
        key=key,
        content_type=content_type,
        size=size,
    )


def log_upload_erased(key: str, generations: int, had_result: bool) -> None:
    # The name is not logged: it is the owner's data, erased on their request.
    _emit(
        "INFO",
        "Erased an upload on its owner's request",
        key=key,
        stage="results_api",
        event="upload_erased",
        generations=generations,
        had_result=had_result,
    )


def log_account_erased(objects: int, results: int) -> None:
    # No uid: the account no longer exists, and nothing should tie these lines to the person.
    _emit(
        "INFO",
        "Erased an account and everything of it",
        stage="results_api",
        event="account_erased",
        objects=objects,
        results=results,
    )


def log_api_error(method: str, path: str, error: BaseException, trace_id: str) -> None:
    _emit("ERROR", f"{method} {path} failed", trace_id, stage="results_api", **_error_fields(error))


# --- local stack: the Eventarc bridge (local_stack/bridge.py) ---------------------------------


def log_bridge_delivery_failed(
    function: str, message_id: str, attempt: int, reason: str, retry_in_s: float | None
) -> None:
    then = f"redelivered in {retry_in_s:.2f} s" if retry_in_s is not None else "retry budget spent"
    _emit(
        "WARNING",
        f"Delivery {attempt} of message {message_id} to {function} failed ({reason}); {then}",
        stage="bridge",
        function=function,
        message_id=message_id,
        attempt=attempt,
    )


def log_bridge_dead_lettered(function: str, message_id: str, attempts: int, topic: str) -> None:
    _emit(
        "ERROR",
        f"Message {message_id} for {function} sent to {topic} after {attempts} delivery attempts",
        stage="bridge",
        function=function,
        message_id=message_id,
        attempts=attempts,
        dead_letter_topic=topic,
    )
