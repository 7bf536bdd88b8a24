"""The pipeline and accounts: `owner` and `expire_at` on every result, the `owner` attribute on
`cough-results`, and an owner's erasure racing the pipeline leaving nothing behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.accounts import erasure
from shared.config import settings
from shared.pipeline import results
from shared.pipeline.messages import Upload
from tests.fixtures.audio_files import sample_file
from tests.pipeline_support import Pipeline, deliver, pubsub_event, storage_event

pytestmark = pytest.mark.integration

OWNED = "users/visitor-1/cough.wav"


def _leftovers(pipeline: Pipeline, name: str) -> dict[str, Any]:
    """Everything that could be left of an upload: objects (any generation), document, markers."""
    ref = results._ref(pipeline.key(name))
    return {
        "objects": [
            b.name for b in pipeline.storage_client.list_blobs(pipeline.bucket, prefix=name, versions=True)
        ],
        "document": ref.get().exists,
        "markers": [m.id for m in ref.collection("finished").stream()],
    }


NOTHING = {"objects": [], "document": False, "markers": []}


def test_results_carry_owner_and_expire_at_and_messages_the_owner(
    preprocess: Any, predict: Any, pipeline: Pipeline
) -> None:
    for name in (OWNED, "service/cough.wav"):
        event = pipeline.upload(name, sample_file("wav_pcm16", seconds=1.0))
        assert deliver(preprocess, storage_event(event)).status_code == 200
        [features] = pipeline.messages("features")
        assert deliver(predict, pubsub_event(features.data, dict(features.attributes))).status_code == 200
        doc = results.get(pipeline.key(name))
        assert doc["status"] == "done"
        assert doc["owner"] == ("visitor-1" if name == OWNED else None)
        retention = doc["expire_at"] - doc["created_at"]
        assert abs(retention - timedelta(days=settings().RETENTION_DAYS)) < timedelta(seconds=30)
        [message] = pipeline.messages("results")
        assert message.attributes["owner"] == (doc["owner"] or "")


def test_retention_days_is_a_setting(monkeypatch: pytest.MonkeyPatch, pipeline: Pipeline) -> None:
    monkeypatch.setenv("RETENTION_DAYS", "3")
    settings.cache_clear()
    upload = Upload(pipeline.bucket, OWNED, 1, 10, "audio/wav")
    results.claim_upload(upload, "t")
    doc = results.get(upload.key)
    assert abs(doc["expire_at"] - doc["created_at"] - timedelta(days=3)) < timedelta(seconds=30)


def test_erased_before_predict_finishes_nothing_comes_back(
    preprocess: Any, predict: Any, pipeline: Pipeline
) -> None:
    event = pipeline.upload(OWNED, sample_file("wav_pcm16", seconds=1.0))
    assert deliver(preprocess, storage_event(event)).status_code == 200
    [features] = pipeline.messages("features")
    assert erasure.erase_upload(OWNED)
    for _ in range(2):  # and a redelivery
        assert deliver(predict, pubsub_event(features.data, dict(features.attributes))).status_code == 200
    assert _leftovers(pipeline, OWNED) == NOTHING
    assert pipeline.messages("results") == []


def test_erased_before_preprocess_reads_it_nothing_comes_back(preprocess: Any, pipeline: Pipeline) -> None:
    """The event arrives (or is redelivered) after the owner erased the file."""
    event = pipeline.upload(OWNED, sample_file("wav_pcm16", seconds=1.0))
    assert erasure.erase_upload(OWNED)
    assert deliver(preprocess, storage_event(event)).status_code == 200
    assert _leftovers(pipeline, OWNED) == NOTHING
    assert pipeline.messages("features") == [] and pipeline.messages("results") == []


def test_erased_between_claim_and_download(
    preprocess: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """preprocess has claimed the upload (a `received` document) when the owner erases it."""
    event = pipeline.upload(OWNED, sample_file("wav_pcm16", seconds=1.0))
    claim = results.claim_upload

    def claim_then_erase(upload: Upload, trace_id: str) -> results.Claim:
        outcome = claim(upload, trace_id)
        erasure.erase_upload(upload.name)
        return outcome

    monkeypatch.setattr(results, "claim_upload", claim_then_erase)
    assert deliver(preprocess, storage_event(event)).status_code == 200
    assert _leftovers(pipeline, OWNED) == NOTHING
    assert pipeline.messages("results") == []


def test_erased_while_the_final_write_is_under_way(
    preprocess: Any, predict: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst moment: predict has created its finish marker, then the owner erases."""
    event = pipeline.upload(OWNED, sample_file("wav_pcm16", seconds=1.0))
    assert deliver(preprocess, storage_event(event)).status_code == 200
    [features] = pipeline.messages("features")
    create = results._guarded_create

    def create_then_erase(ref: Any, document: dict[str, Any]) -> Any:
        written = create(ref, document)
        if ref.parent.id == "finished":
            erasure.erase_upload(OWNED)
        return written

    monkeypatch.setattr(results, "_guarded_create", create_then_erase)
    assert deliver(predict, pubsub_event(features.data, dict(features.attributes))).status_code == 200
    assert _leftovers(pipeline, OWNED) == NOTHING
    assert pipeline.messages("results") == []


def test_erased_after_preprocess_read_its_claim(
    preprocess: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """preprocess has read its `received` document to mark the features ready when the owner
    erases: the guarded update that follows must not re-create the document (the emulator
    ignores update-time preconditions, and with them the existence check)."""
    event = pipeline.upload(OWNED, sample_file("wav_pcm16", seconds=1.0))
    read = results._read

    def read_then_erase(ref: Any) -> Any:
        found = read(ref)
        erasure.erase_upload(OWNED)
        return found

    monkeypatch.setattr(results, "_read", read_then_erase)
    assert deliver(preprocess, storage_event(event)).status_code == 200
    monkeypatch.setattr(results, "_read", read)
    assert _leftovers(pipeline, OWNED) == NOTHING
    assert pipeline.messages("features") == []


def test_erased_while_the_features_are_published(
    preprocess: Any, predict: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owner erases after `features_ready` and before its message id is recorded: neither
    that write nor predict's answer to the message brings the document back."""
    event = pipeline.upload(OWNED, sample_file("wav_pcm16", seconds=1.0))
    record = results.record_features_published

    def erase_then_record(*args: Any) -> None:
        erasure.erase_upload(OWNED)
        record(*args)

    monkeypatch.setattr(results, "record_features_published", erase_then_record)
    assert deliver(preprocess, storage_event(event)).status_code == 200
    [features] = pipeline.messages("features")
    assert deliver(predict, pubsub_event(features.data, dict(features.attributes))).status_code == 200
    assert _leftovers(pipeline, OWNED) == NOTHING
    assert pipeline.messages("results") == []


def test_failures_of_erased_uploads_are_not_recorded_either(pipeline: Pipeline) -> None:
    upload = Upload(pipeline.bucket, OWNED, 7, 10, "audio/wav")
    transition = results.mark_failed(upload.key, 7, "internal", "gave up", fresh=upload)
    assert transition.outcome == "erased"
    assert _leftovers(pipeline, OWNED) == NOTHING


def test_uploads_without_an_owner_are_still_recorded_when_their_document_is_missing(
    pipeline: Pipeline,
) -> None:
    """The old guarantee stands for service uploads: a failure is never dropped for lack of a record."""
    upload = Upload(pipeline.bucket, "service/lost.wav", 7, 10, "audio/wav")
    transition = results.mark_failed(upload.key, 7, "internal", "gave up", fresh=upload)
    assert transition.outcome == "applied"
    assert results.get(upload.key)["status"] == "failed"
