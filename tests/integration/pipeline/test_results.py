"""shared/pipeline/results.py: the status lifecycle on the real Firestore emulator."""

from __future__ import annotations

import pytest

from shared.pipeline import results
from shared.pipeline.messages import Upload
from tests.pipeline_support import Pipeline

pytestmark = pytest.mark.integration


def upload(pipeline: Pipeline, generation: int, name: str = "a.wav") -> Upload:
    return Upload(pipeline.bucket, name, generation, 100, "audio/wav")


def test_claims_count_redeliveries_until_the_features_are_published(pipeline: Pipeline) -> None:
    first = upload(pipeline, 5)
    assert results.claim_upload(first, "t") == results.Claim("work", attempt=1)
    assert results.claim_upload(first, "t").attempt == 2
    ready = results.mark_features_ready(first, {"format": "wav"}, {"decode_ms": 1.0})
    assert ready.outcome == "applied"
    # features_ready but never published (the publish failed): still work to do.
    assert results.claim_upload(first, "t") == results.Claim("work", attempt=3)
    results.record_features_published(first, ready, "m-1", {"publish_ms": 2.0})
    claim = results.claim_upload(first, "t")
    assert (claim.outcome, claim.status) == ("duplicate", "features_ready")
    doc = results.get(first.key)
    assert doc["features_message_id"] == "m-1"
    assert doc["timings"] == {"decode_ms": 1.0, "publish_ms": 2.0}


def test_older_generation_is_stale_and_newer_starts_afresh(pipeline: Pipeline) -> None:
    results.claim_upload(upload(pipeline, 5), "t")
    results.mark_failed(upload(pipeline, 5).key, 5, "too_short", "short")
    assert results.claim_upload(upload(pipeline, 4), "t") == results.Claim("stale", recorded_generation=5)
    assert results.claim_upload(upload(pipeline, 6), "t") == results.Claim("work", attempt=1)
    doc = results.get(upload(pipeline, 6).key)
    assert (doc["generation"], doc["status"], doc["error"], doc["attempts"]) == (6, "received", None, 1)


def test_final_state_is_written_once_per_generation(pipeline: Pipeline) -> None:
    first = upload(pipeline, 8)
    results.claim_upload(first, "t")
    done = results.mark_done(first, {"label": "dry", "confidence": 0.9}, {"inference_ms": 1.0})
    assert done.outcome == "applied"
    assert done.document["status"] == "done" and "pipeline_ms" in done.document["timings"]
    assert results.mark_done(first, {"label": "wet"}, {}).outcome == "duplicate"
    assert results.mark_failed(first.key, 8, "internal", "late").outcome == "duplicate"
    assert results.mark_features_ready(first, {}, {}).outcome == "duplicate"
    doc = results.get(first.key)
    assert (doc["status"], doc["label"], doc["error"]) == ("done", "dry", None)


def test_final_state_of_an_older_generation_is_stale(pipeline: Pipeline) -> None:
    results.claim_upload(upload(pipeline, 9), "t")
    assert results.mark_done(upload(pipeline, 3), {"label": "dry"}, {}).outcome == "stale"
    assert results.get(upload(pipeline, 9).key)["status"] == "received"


def test_failure_is_recorded_without_a_document_only_when_the_upload_is_known(pipeline: Pipeline) -> None:
    key = upload(pipeline, 2, "ghost.wav").key
    assert results.mark_failed(key, 2, "internal", "lost").outcome == "stale"
    assert results.get(key) is None
    fresh = upload(pipeline, 2, "ghost.wav")
    assert results.mark_failed(key, 2, "invalid_name", "bad", fresh=fresh).outcome == "applied"
    doc = results.get(key)
    assert (doc["status"], doc["name"], doc["error"]["code"]) == ("failed", "ghost.wav", "invalid_name")


def test_reopen_lets_a_redelivery_finish_again(pipeline: Pipeline) -> None:
    first = upload(pipeline, 4)
    results.claim_upload(first, "t")
    done = results.mark_done(first, {"label": "dry"}, {})
    assert done.previous_status == "received"
    results.reopen(first.key, first.generation, done.previous_status)
    assert results.get(first.key)["status"] == "received"
    assert results.mark_done(first, {"label": "wet"}, {}).outcome == "applied"
    assert results.get(first.key)["label"] == "wet"


def test_recording_the_published_features_never_touches_the_status(pipeline: Pipeline) -> None:
    first = upload(pipeline, 6)
    results.claim_upload(first, "t")
    ready = results.mark_features_ready(first, {}, {"decode_ms": 1.0})
    results.mark_done(first, {"label": "wet"}, {"inference_ms": 0.5})  # predict was quicker
    results.record_features_published(first, ready, "m-2", {"publish_ms": 3.0})
    doc = results.get(first.key)
    assert (doc["status"], doc["label"], doc["features_message_id"]) == ("done", "wet", "m-2")
    assert {"decode_ms", "inference_ms", "publish_ms", "pipeline_ms"} <= set(doc["timings"])


def test_published_record_for_a_replaced_generation_is_dropped(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = upload(pipeline, 6), upload(pipeline, 7)
    results.claim_upload(old, "t")
    ready = results.mark_features_ready(old, {}, {})
    results.claim_upload(new, "t")
    # As on Cloud Firestore, where the update-time precondition fails after the replacement.
    monkeypatch.setattr(results, "_guarded_update", lambda ref, since, fields: None)
    results.record_features_published(old, ready, "m-old", {})
    doc = results.get(new.key)
    assert (doc["generation"], doc["features_message_id"]) == (7, None)
