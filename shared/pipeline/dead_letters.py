"""The dead-letter stage: a message that spent its retry budget marks its document `failed`.

Dead-letter topics receive the original message: a storage object event (from the
uploads trigger) or a features message (from the predict trigger).
"""

from __future__ import annotations

import json
from typing import Any

from shared import logs
from shared.pipeline import outcomes
from shared.pipeline.messages import FeaturesMessage, MessageError, Upload, features_header

STAGE = "dead_letter"


def _upload_from_object(body: Any, attributes: dict[str, str]) -> Upload | None:
    """The upload a storage object event names, from its JSON body or its notification attributes."""
    fields = body if isinstance(body, dict) else {}
    bucket = fields.get("bucket") or attributes.get("bucketId")
    name = fields.get("name") or attributes.get("objectId")
    generation = str(fields.get("generation") or attributes.get("objectGeneration") or "")
    if not (bucket and name and generation.isdigit()):
        return None
    size = str(fields.get("size") or "0")
    return Upload(
        bucket, name, int(generation), int(size) if size.isdigit() else 0, fields.get("contentType", "")
    )


def _identify(data: bytes, attributes: dict[str, str]) -> tuple[Upload, str, str | None] | None:
    """(upload, source, trace id) of a dead-lettered message, or None if it names no upload."""
    if features_header(data) is not None:
        try:
            message = FeaturesMessage.from_bytes(data)
        except MessageError:
            return None
        return message.upload, "features", message.trace_id
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: a poison of deeply nested JSON
        body = None
    upload = _upload_from_object(body, attributes)
    return (upload, "upload event", attributes.get("trace_id")) if upload else None


def handle_dead_letter(data: bytes, attributes: dict[str, str]) -> None:
    """Mark the message's document failed (`internal`) unless that generation already finished."""
    found = _identify(data, attributes)
    if found is None:
        logs.log_unreadable_message(STAGE, "the dead-lettered message names no upload", attributes)
        return
    upload, source, trace_id = found
    attempts = attributes.get("CloudPubSubDeadLetterSourceDeliveryCount", "several")
    stage = "classification" if source == "features" else "processing"
    message = f"The {stage} gave up after {attempts} delivery attempts; the upload was not classified."
    transition = outcomes.finish_failed(
        STAGE, upload.key, upload.generation, "internal", message, fresh=upload, trace_id=trace_id
    )
    logs.log_dead_lettered(upload.key, upload.generation, source, transition.outcome == "applied", trace_id)
