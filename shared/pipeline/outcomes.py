"""An upload's final state: written once per generation, then announced once on `cough-results`.

Every stage ends an upload through here, so subscribers hear of failures as well as
results. Only the delivery whose final write is `applied` publishes; if publishing fails,
that write is undone and the error raised, so the platform's redelivery tries again.
"""

from __future__ import annotations

from typing import Any

from shared import logs
from shared.cloud import pubsub
from shared.config import settings
from shared.pipeline import results
from shared.pipeline.messages import Upload, result_message


def finish_done(
    upload: Upload, fields: dict[str, Any], timings: dict[str, float], trace_id: str | None
) -> results.Transition:
    transition = results.mark_done(upload, fields, timings)
    _announce(upload.key, "predict", upload.generation, transition, trace_id)
    return transition


def finish_failed(
    stage: str,
    key: str,
    generation: int,
    code: str,
    message: str,
    *,
    fresh: Upload | None = None,
    trace_id: str | None = None,
) -> results.Transition:
    transition = results.mark_failed(key, generation, code, message, fresh=fresh)
    _announce(key, stage, generation, transition, trace_id)
    return transition


def _announce(
    key: str, stage: str, generation: int, transition: results.Transition, trace_id: str | None
) -> None:
    if transition.outcome != "applied" or transition.document is None:
        return
    body, attributes = result_message(key, transition.document)
    try:
        message_id = pubsub.publish(settings().RESULTS_TOPIC, body, attributes)
    except Exception:
        results.reopen(key, generation, transition.previous_status or "received")
        raise
    status = str(transition.document["status"])
    code = (transition.document.get("error") or {}).get("code")
    logs.log_result_published(key, stage, generation, status, code, message_id, trace_id)
