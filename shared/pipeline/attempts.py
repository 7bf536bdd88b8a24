"""How a pipeline stage ends a delivery that does not complete its work; both stages call this.

Skipped: the document says another delivery (or a newer generation) has it, or its owner
erased the upload; only a log line. Failed: bad input (or a model that cannot serve it) is
recorded as `failed` with its code and the delivery acknowledged. A fault: a transient one
raises so the platform redelivers, until delivery MAX_DELIVERY_ATTEMPTS of one generation,
which gives up: the message goes to the stage's dead-letter topic and the document is marked
`failed`; anything else is a bug, recorded as `failed`/`internal` at once (retrying cannot
fix it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from shared import logs
from shared.cloud import pubsub
from shared.config import settings
from shared.errors import CoughCloudError
from shared.faults import is_transient
from shared.pipeline import outcomes
from shared.pipeline.messages import Upload


@dataclass(frozen=True)
class Stage:
    """A stage as its logs and its uploads' error messages name it."""

    name: str  # "preprocess", "predict"
    internal: str  # the error message of an upload a bug stopped
    gave_up: str  # ... of an upload whose deliveries are spent; `{attempts}` is filled in


@dataclass(frozen=True)
class DeadLetter:
    """Where a given-up message goes, and what is sent (the delivery count is added)."""

    topic: str
    data: bytes
    attributes: dict[str, str]


def elapsed_ms(started: float) -> float:
    """Milliseconds since `started`, a `time.perf_counter()` reading."""
    return (time.perf_counter() - started) * 1000


def log_skipped(stage: Stage, upload: Upload, recorded: dict[str, Any] | None, trace_id: str | None) -> None:
    """Log why a delivery did nothing, from the document it found (None: its owner erased it)."""
    if not recorded:
        logs.log_erased_meanwhile(upload.key, stage.name, upload.generation, trace_id)
        return
    generation = int(recorded.get("generation") or 0)
    if generation > upload.generation:
        logs.log_stale_generation(upload.key, stage.name, upload.generation, generation, trace_id)
    else:
        status = str(recorded.get("status"))
        logs.log_duplicate_delivery(upload.key, stage.name, upload.generation, status, trace_id)


def record_failure(
    stage: Stage, upload: Upload, error: CoughCloudError, started: float, trace_id: str | None
) -> None:
    """Bad input, or a model that cannot serve it: `failed` with the error's code, and logged."""
    outcomes.finish_failed(
        stage.name, upload.key, upload.generation, error.code, error.message, fresh=upload, trace_id=trace_id
    )
    logs.log_upload_failed(
        upload.key, stage.name, upload.generation, error.code, error.message, elapsed_ms(started), trace_id
    )


def handle_fault(
    stage: Stage,
    upload: Upload,
    attempt: int,
    error: Exception,
    dead_letter: DeadLetter,
    trace_id: str | None,
) -> None:
    """Transient: raise for a redelivery (or give up once the budget is spent); a bug: fail now."""
    if not is_transient(error):
        logs.log_unexpected_error(upload.key, stage.name, upload.generation, error, trace_id)
        _fail_internal(stage, upload, stage.internal, trace_id)
        return
    if attempt < settings().MAX_DELIVERY_ATTEMPTS:
        logs.log_retrying(upload.key, stage.name, upload.generation, attempt, error, trace_id)
        raise error
    give_up(stage, upload, attempt, error, dead_letter, trace_id)


def give_up(
    stage: Stage,
    upload: Upload,
    delivered: int,
    error: BaseException | None,
    dead_letter: DeadLetter,
    trace_id: str | None,
) -> None:
    """Dead-letter the message (first, so a failed publish is retried), then mark the document.

    `delivered`: how many deliveries were spent; `error`: the last one's fault, if known.
    """
    count = {"CloudPubSubDeadLetterSourceDeliveryCount": str(delivered)}
    pubsub.publish(dead_letter.topic, dead_letter.data, {**dead_letter.attributes, **count})
    _fail_internal(stage, upload, stage.gave_up.format(attempts=delivered), trace_id)
    logs.log_gave_up(upload.key, stage.name, upload.generation, delivered, error, trace_id)


def _fail_internal(stage: Stage, upload: Upload, message: str, trace_id: str | None) -> None:
    outcomes.finish_failed(
        stage.name, upload.key, upload.generation, "internal", message, fresh=upload, trace_id=trace_id
    )
