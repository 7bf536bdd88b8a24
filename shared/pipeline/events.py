"""Reading CloudEvents: the Pub/Sub envelope and the trace id."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from cloudevents.http import CloudEvent

from shared.logs import log_event_ignored

FINALIZED = "google.cloud.storage.object.v1.finalized"
PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
# Our own event type: results_api asks preprocess and predict to finish starting (POST /warm).
WARM_UP = "coughcloud.warmup"


def is_warm_up(event: CloudEvent) -> bool:
    """Whether `event` is a warm-up, which each entry point checks before anything else."""
    return event["type"] == WARM_UP


def is_event_type(event: CloudEvent, expected: str, stage: str) -> bool:
    """Whether `event` is what this function handles; anything else is logged and acknowledged."""
    if event["type"] == expected:
        return True
    log_event_ignored(stage, event["type"], f"this function handles {expected} only")
    return False


def trace_id_of(event: CloudEvent, *parts: object) -> str:
    """The W3C trace id from the event's `traceparent`, else one derived from `parts`.

    Deriving it from (bucket, name, generation) gives every delivery of one upload, and the
    predict stage after it, the same trace.
    """
    traceparent = str(event.get("traceparent") or "")
    fields = traceparent.split("-")
    if len(fields) == 4 and len(fields[1]) == 32:
        return fields[1]
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class PubSubMessage:
    data: bytes
    attributes: dict[str, str]
    message_id: str
    delivery_attempt: int | None


def pubsub_message(event: CloudEvent) -> PubSubMessage:
    """The message inside a `google.cloud.pubsub.topic.v1.messagePublished` event."""
    envelope: dict[str, Any] = event.data or {}
    message = envelope.get("message") or {}
    attempt = envelope.get("deliveryAttempt")
    return PubSubMessage(
        data=base64.b64decode(message.get("data") or ""),
        attributes={str(k): str(v) for k, v in (message.get("attributes") or {}).items()},
        message_id=str(message.get("messageId") or message.get("message_id") or ""),
        delivery_attempt=int(attempt) if attempt else None,
    )
