"""The predict stage: a features message → the model's answer → `done` + one `cough-results` message.

A features message can be delivered more than once (and preprocess may publish it twice
when two deliveries of one upload race); only the delivery whose `done` write lands
publishes the result, so each generation gets one result document and one message.
"""

from __future__ import annotations

import functools
import time
from datetime import UTC, datetime
from typing import Any

from shared import logs
from shared.cloud import pubsub
from shared.config import settings
from shared.errors import ModelError
from shared.faults import is_transient
from shared.ml.model import load_model, prefetch
from shared.pipeline import outcomes
from shared.pipeline.messages import FeaturesMessage, MessageError

STAGE = "predict"


@functools.cache
def _model() -> Any:
    """The model at MODEL_URI, loaded once per instance (a failed load is retried next time)."""
    started = time.perf_counter()
    uri = settings().MODEL_URI
    model = load_model(uri)
    logs.log_model_loaded(uri, model.name, model.version, (time.perf_counter() - started) * 1000)
    return model


def prefetch_model() -> None:
    """Download MODEL_URI's files ahead of the first message (started by functions/predict.py)."""
    prefetch(settings().MODEL_URI)


def _queue_ms(sent_at: str) -> float | None:
    try:
        return round((datetime.now(UTC) - datetime.fromisoformat(sent_at)).total_seconds() * 1000, 3)
    except (TypeError, ValueError):
        return None


def predict_features(data: bytes, attributes: dict[str, str], delivery_attempt: int | None) -> None:
    """Handle one delivery of a features message; returns normally unless it should be redelivered."""
    started = time.perf_counter()
    try:
        message = FeaturesMessage.from_bytes(data)
    except MessageError as error:
        _record_unreadable(attributes, str(error))
        return
    upload, trace_id = message.upload, message.trace_id
    try:
        fields, timings = _classify(message)
    except ModelError as error:
        outcomes.finish_failed(
            STAGE, upload.key, upload.generation, error.code, error.message, fresh=upload, trace_id=trace_id
        )
        logs.log_upload_failed(
            upload.key, STAGE, upload.generation, error.code, error.message, _ms(started), trace_id
        )
        return
    except Exception as error:
        _handle_fault(message, data, attributes, delivery_attempt, error)
        return
    queue_ms = _queue_ms(message.sent_at)
    if queue_ms is not None:
        timings["queue_ms"] = queue_ms
    timings["predict_ms"] = round(_ms(started), 3)
    try:
        transition = outcomes.finish_done(upload, fields, timings, trace_id)
    except Exception as error:
        _handle_fault(message, data, attributes, delivery_attempt, error)
        return
    if transition.outcome != "applied":
        _log_skipped(message, transition.document or {})
        return
    logs.log_prediction_done(
        upload.key,
        upload.generation,
        fields["label"],
        fields["confidence"],
        fields["model"]["version"],
        _ms(started),
        transition.document["timings"],
        trace_id,
    )


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _log_skipped(message: FeaturesMessage, existing: dict[str, Any]) -> None:
    upload = message.upload
    recorded = int(existing.get("generation") or 0)
    if recorded > upload.generation:
        logs.log_stale_generation(upload.key, STAGE, upload.generation, recorded, message.trace_id)
    else:
        status = str(existing.get("status"))
        logs.log_duplicate_delivery(upload.key, STAGE, upload.generation, status, message.trace_id)


def _classify(message: FeaturesMessage) -> tuple[dict[str, Any], dict[str, float]]:
    """The result fields for this message, or ModelError when the model cannot serve it."""
    model = _model()
    started = time.perf_counter()
    prediction = model.predict(message.features, message.spec)
    fields = {
        "label": prediction.label,
        "confidence": prediction.confidence,
        "probabilities": prediction.probabilities,
        "model": model.info,
    }
    return fields, {"inference_ms": round(_ms(started), 3)}


def _handle_fault(
    message: FeaturesMessage,
    data: bytes,
    attributes: dict[str, str],
    delivery_attempt: int | None,
    error: Exception,
) -> None:
    """Transient: raise for a redelivery (or dead-letter once the budget is spent); a bug: fail now."""
    upload, trace_id = message.upload, message.trace_id
    attempt = delivery_attempt or 1
    if not is_transient(error):
        logs.log_unexpected_error(upload.key, STAGE, upload.generation, error, trace_id)
        outcomes.finish_failed(
            STAGE,
            upload.key,
            upload.generation,
            "internal",
            "The recording could not be classified because of an internal error.",
            fresh=upload,
            trace_id=trace_id,
        )
        return
    if attempt < settings().MAX_DELIVERY_ATTEMPTS:
        logs.log_retrying(upload.key, STAGE, upload.generation, attempt, error, trace_id)
        raise error
    pubsub.publish(
        settings().FEATURES_DEAD_LETTER_TOPIC,
        data,
        {**attributes, "CloudPubSubDeadLetterSourceDeliveryCount": str(attempt)},
    )
    outcomes.finish_failed(
        STAGE,
        upload.key,
        upload.generation,
        "internal",
        f"Classification gave up after {attempt} delivery attempts because a service was unavailable.",
        fresh=upload,
        trace_id=trace_id,
    )
    logs.log_gave_up(upload.key, STAGE, upload.generation, attempt, error, trace_id)


def _record_unreadable(attributes: dict[str, str], reason: str) -> None:
    """Record a malformed message on its document when its attributes say which one."""
    logs.log_unreadable_message(STAGE, reason, attributes)
    key, generation = attributes.get("key"), attributes.get("generation", "")
    if key and generation.isdigit():
        reason = "The features message was unreadable."
        outcomes.finish_failed(STAGE, key, int(generation), "internal", reason)
