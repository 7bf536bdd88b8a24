"""The preprocess stage: one upload event → checked audio → the model's features on `audio-features`.

Outcomes, per docs/design/contracts.md: bad input is recorded as `failed` with its code and the event is
acknowledged; a transient fault raises so the platform redelivers; a bug is recorded as
`failed`/`internal` at once (retrying cannot fix it); after MAX_DELIVERY_ATTEMPTS
deliveries of one generation the event goes to the dead-letter topic and the document is
marked `failed`.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import soundfile as sf
from google.api_core import exceptions as api_exceptions

from shared import logs, startup
from shared.accounts import tombstones
from shared.accounts.ownership import check_users_name, owner_of
from shared.cloud import pubsub, storage
from shared.config import settings
from shared.errors import CoughCloudError
from shared.ml.audio import decode_audio
from shared.ml.checks import check_audio, check_upload_size
from shared.ml.features import feature_matrix
from shared.names import validate_object_name
from shared.pipeline import attempts, outcomes, results
from shared.pipeline.messages import AudioFacts, FeaturesMessage, Upload
from shared.registry.serving import choose_for, location, spec_of

T = TypeVar("T")

STAGE = attempts.Stage(
    "preprocess",
    internal="The recording could not be processed because of an internal error.",
    gave_up="Processing gave up after {attempts} delivery attempts because a service was unavailable.",
)


def _timed(timings: dict[str, float], stage: str, work: Callable[[], T]) -> T:
    started = time.perf_counter()
    value = work()
    timings[f"{stage}_ms"] = round((time.perf_counter() - started) * 1000, 3)
    return value


def prefetch_spec() -> None:
    """Read the deployed version's feature spec ahead of the first upload (started by
    functions/preprocess.py); the pointer is read on the first upload (no gRPC before a fork)."""
    spec_of(location().version)


def warm_up() -> None:
    """A warm-up event: the pointer (Firestore's client and channel) and the spec, the Storage
    client, the publisher, and one decode and feature matrix; so the first upload finds them made."""
    startup.finish(
        STAGE.name,
        {
            "pointer": lambda: choose_for("warm-up"),
            "storage": storage.client,
            "publisher": lambda: pubsub.topic_path(settings().FEATURES_TOPIC),
            "decode": _first_decode,
        },
    )


def _first_decode() -> None:
    """Half a second of a 48 kHz tone through decode (soundfile, soxr) and features, and PyAV's import,
    which shared.ml.audio defers to the first webm or mp4 (the page's recordings)."""
    import av  # noqa: F401

    spec = spec_of(location().version)
    rate = 48_000
    clip = io.BytesIO()
    sf.write(clip, 0.1 * np.sin(np.arange(rate // 2) * 2 * np.pi * 440 / rate), rate, format="WAV")
    feature_matrix(decode_audio(clip.getvalue(), spec.sample_rate).samples, spec)


def preprocess_upload(
    bucket: str, name: str, generation: int, size: int, content_type: str, trace_id: str
) -> None:
    """Handle one `object.finalized` delivery; returns normally unless it should be redelivered."""
    started = time.perf_counter()
    upload = Upload(bucket, name, generation, size, content_type)
    try:
        check_users_name(validate_object_name(name))
    except CoughCloudError as error:
        attempts.record_failure(STAGE, upload, error, started, trace_id)
        return

    if tombstones.erased(bucket, name):
        _refuse(upload, "its name or account was erased meanwhile", trace_id)
        return
    claim = results.claim_upload(upload, trace_id)
    if claim.outcome == "replaced":
        _refuse(upload, f"a name written once, at generation {claim.recorded_generation}", trace_id)
        return
    if claim.outcome != "work":
        recorded = {"generation": claim.recorded_generation, "status": claim.status}
        attempts.log_skipped(STAGE, upload, recorded, trace_id)
        return
    logs.log_upload_received(upload.key, generation, name, size, content_type, claim.attempt, trace_id)
    if claim.attempt > settings().MAX_DELIVERY_ATTEMPTS:
        attempts.give_up(STAGE, upload, claim.attempt - 1, None, _dead_letter(upload), trace_id)
        return

    try:
        _extract_and_publish(upload, trace_id, started)
    except CoughCloudError as error:
        attempts.record_failure(STAGE, upload, error, started, trace_id)
    except Exception as error:
        attempts.handle_fault(STAGE, upload, claim.attempt, error, _dead_letter(upload), trace_id)


def _extract_and_publish(upload: Upload, trace_id: str, started: float) -> None:
    config = settings()
    choice, spec = choose_for(upload.key)  # the version answering this upload decides the features
    timings: dict[str, float] = {}
    check_upload_size(upload.size)
    try:
        data = _timed(
            timings,
            "download",
            lambda: storage.download_capped(
                upload.bucket, upload.name, upload.generation, config.MAX_UPLOAD_BYTES
            ),
        )
    except api_exceptions.NotFound:
        if owner_of(upload.name) is not None:  # its owner erased it: so goes our claim
            results.erase_claim(upload)
            logs.log_erased_meanwhile(upload.key, "preprocess", upload.generation, trace_id)
            return
        _fail(upload, "internal", "The file was deleted or replaced before it could be read.", trace_id)
        return
    audio = _timed(timings, "decode", lambda: decode_audio(data, spec.sample_rate))
    check_audio(audio)
    features = _timed(timings, "features", lambda: feature_matrix(audio.samples, spec))
    facts = AudioFacts(audio.sample_rate, audio.duration_s, audio.channels, audio.source_rate, audio.format)
    sent_at = datetime.now(UTC).isoformat()
    message = FeaturesMessage(upload, facts, spec.to_dict(), features, trace_id, sent_at, choice.to_dict())
    ready = results.mark_features_ready(upload, _audio_fields(facts), timings)
    if ready.outcome != "applied":
        attempts.log_skipped(STAGE, upload, ready.document, trace_id)
        return
    published: dict[str, float] = {}
    message_id = _timed(
        published,
        "publish",
        lambda: pubsub.publish(config.FEATURES_TOPIC, message.to_bytes(), message.attributes()),
    )
    published["preprocess_ms"] = round(attempts.elapsed_ms(started), 3)
    results.record_features_published(upload, ready, message_id, published)
    logs.log_features_published(
        upload.key, upload.generation, message_id, published["preprocess_ms"], timings | published, trace_id
    )


def _refuse(upload: Upload, reason: str, trace_id: str) -> None:
    """Delete an owned upload unread: nothing of it is classified or recorded."""
    storage.delete_generation(upload.bucket, upload.name, upload.generation)
    logs.log_upload_refused(upload.key, upload.generation, reason, trace_id)


def _audio_fields(facts: AudioFacts) -> dict[str, Any]:
    return {
        "sample_rate": facts.sample_rate,
        "duration_s": round(facts.duration_s, 4),
        "channels": facts.channels,
        "source_rate": facts.source_rate,
        "format": facts.format,
    }


def _fail(upload: Upload, code: str, message: str, trace_id: str) -> None:
    outcomes.finish_failed(
        "preprocess", upload.key, upload.generation, code, message, fresh=upload, trace_id=trace_id
    )


def object_event(upload: Upload) -> dict[str, Any]:
    """The storage object fields of an upload event, as Pub/Sub notifications carry them."""
    return {
        "bucket": upload.bucket,
        "name": upload.name,
        "generation": str(upload.generation),
        "size": str(upload.size),
        "contentType": upload.content_type,
    }


def _dead_letter(upload: Upload) -> attempts.DeadLetter:
    """The upload event as the uploads trigger's dead-letter topic would receive it."""
    attributes = {
        "key": upload.key,
        "generation": str(upload.generation),
        "bucketId": upload.bucket,
        "objectId": upload.name,
        "objectGeneration": str(upload.generation),
    }
    body = json.dumps(object_event(upload)).encode()
    return attempts.DeadLetter(settings().UPLOADS_DEAD_LETTER_TOPIC, body, attributes)
