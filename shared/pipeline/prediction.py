"""The predict stage: a features message → the model's answer → `done` + one `cough-results` message.

A features message can be delivered more than once (and preprocess may publish it twice
when two deliveries of one upload race); only the delivery whose `done` write lands
publishes the result, so each generation gets one result document and one message.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from shared import logs, startup
from shared.cloud import pubsub
from shared.config import settings
from shared.errors import ModelError
from shared.ml.features import feature_matrix
from shared.ml.labels import answer_kind
from shared.ml.model import prefetch
from shared.pipeline import attempts, outcomes
from shared.pipeline.messages import FeaturesMessage, MessageError
from shared.registry.routing import Choice
from shared.registry.serving import Served, load_version, location, model_for

STAGE = attempts.Stage(
    "predict",
    internal="The recording could not be classified because of an internal error.",
    gave_up="Classification gave up after {attempts} delivery attempts because a service was unavailable.",
)


def prefetch_model() -> None:
    """Download the deployed version's files ahead of the first message (started by
    functions/predict.py); a version a message names otherwise loads when it first comes."""
    where = location()
    prefetch(where.registry.uri(where.version))


def warm_up() -> None:
    """A warm-up event: the pointer (Firestore's client and channel), the champion's interpreter
    and one inference through it, the publisher; so the first features message finds them made."""
    startup.finish(
        STAGE.name,
        {"model": _first_inference, "publisher": lambda: pubsub.topic_path(settings().RESULTS_TOPIC)},
    )


def _first_inference() -> None:
    """One second of silence through the champion, whatever its feature spec and runtime."""
    model = model_for(None).model
    spec = model.spec
    model.predict(feature_matrix(np.zeros(spec.sample_rate, np.float32), spec), spec)


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
        attempts.record_failure(STAGE, upload, error, started, trace_id)
        return
    except Exception as error:
        _handle_fault(message, data, attributes, delivery_attempt, error)
        return
    queue_ms = _queue_ms(message.sent_at)
    if queue_ms is not None:
        timings["queue_ms"] = queue_ms
    timings["predict_ms"] = round(attempts.elapsed_ms(started), 3)
    try:
        transition = outcomes.finish_done(upload, fields, timings, trace_id)
    except Exception as error:
        _handle_fault(message, data, attributes, delivery_attempt, error)
        return
    if transition.outcome != "applied":
        attempts.log_skipped(STAGE, upload, transition.document, trace_id)
        return
    logs.log_prediction_done(
        upload.key,
        upload.generation,
        fields["label"],
        fields["confidence"],
        answer_kind(fields["label"], fields["model"]["negative_labels"]),
        fields["model"]["name"],
        fields["model"]["version"],
        attempts.elapsed_ms(started),
        transition.document["timings"],
        trace_id,
    )


def _classify(message: FeaturesMessage) -> tuple[dict[str, Any], dict[str, float]]:
    """The result fields for this message, or ModelError when the model cannot serve it.

    The version preprocess chose (named in the message) answers; a shadow version, when
    one is set, scores the same features for the result document only.
    """
    served = model_for(Choice.from_dict(message.model))
    started = time.perf_counter()
    prediction = served.model.predict(message.features, message.spec)
    fields = {
        "label": prediction.label,
        "confidence": prediction.confidence,
        "probabilities": prediction.probabilities,
        "model": served.info,
    }
    timings = {"inference_ms": round(attempts.elapsed_ms(started), 3)}
    shadow = _shadow_answer(message, served)
    if shadow is not None:
        fields["shadow"] = shadow
    return fields, timings


def _shadow_answer(message: FeaturesMessage, served: Served) -> dict[str, Any] | None:
    """The shadow version's answer on the same features; None (logged) when it cannot give one.

    Never raises: the shadow must not cost the upload its answer.
    """
    version = served.choice.shadow
    if not version or version == served.model.version:
        return None
    upload = message.upload
    try:
        model = load_version(version)
        started = time.perf_counter()
        prediction = model.predict(message.features, message.spec)
    except Exception as error:
        reason = error.message if isinstance(error, ModelError) else f"{type(error).__name__}: {error}"
        logs.log_shadow_skipped(upload.key, upload.generation, version, reason, message.trace_id)
        return None
    return {
        "model": {**model.info, "alias": "shadow"},
        "label": prediction.label,
        "confidence": prediction.confidence,
        "probabilities": prediction.probabilities,
        "inference_ms": round(attempts.elapsed_ms(started), 3),
    }


def _handle_fault(
    message: FeaturesMessage,
    data: bytes,
    attributes: dict[str, str],
    delivery_attempt: int | None,
    error: Exception,
) -> None:
    """Transient: raise for a redelivery (or dead-letter once the budget is spent); a bug: fail now."""
    dead_letter = attempts.DeadLetter(settings().FEATURES_DEAD_LETTER_TOPIC, data, attributes)
    attempt = delivery_attempt or 1
    attempts.handle_fault(STAGE, message.upload, attempt, error, dead_letter, message.trace_id)


def _record_unreadable(attributes: dict[str, str], reason: str) -> None:
    """Record a malformed message on its document when its attributes say which one."""
    logs.log_unreadable_message(STAGE.name, reason, attributes)
    key, generation = attributes.get("key"), attributes.get("generation", "")
    if key and generation.isdigit():
        reason = "The features message was unreadable."
        outcomes.finish_failed(STAGE.name, key, int(generation), "internal", reason)
