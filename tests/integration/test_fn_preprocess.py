"""functions/preprocess.py through functions-framework's test preprocess, on the real emulators."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from google.api_core import exceptions as api_exceptions

from shared.ml.spec import FeatureSpec
from shared.pipeline import results
from shared.pipeline.messages import FEATURES_SCHEMA, FeaturesMessage
from tests.fixtures.audio_files import sample_file, text_file
from tests.pipeline_support import Pipeline, deliver, storage_event

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cough_wav() -> bytes:
    return sample_file("wav_pcm16", seconds=1.0)


def test_valid_upload_publishes_features_and_marks_features_ready(
    preprocess: Any, pipeline: Pipeline, cough_wav: bytes
) -> None:
    event = pipeline.upload("alice/cough 1.wav", cough_wav)
    reply = deliver(preprocess, storage_event(event))
    assert reply.status_code == 200

    [message] = pipeline.messages("features")
    features = FeaturesMessage.from_bytes(message.data)
    key = pipeline.key("alice/cough 1.wav")
    assert dict(message.attributes) == {
        "key": key,
        "generation": event["generation"],
        "schema": FEATURES_SCHEMA,
        "trace_id": features.trace_id,
    }
    assert features.upload.name == "alice/cough 1.wav"
    assert features.upload.generation == int(event["generation"])
    assert features.upload.size == len(cough_wav)
    spec = FeatureSpec.from_dict(features.spec)
    assert features.features.dtype == np.float32
    assert features.features.shape == (spec.n_mfcc, 1 + spec.sample_rate // spec.hop_length)
    assert features.audio.sample_rate == spec.sample_rate
    assert features.audio.duration_s == pytest.approx(1.0, abs=0.01)

    doc = results.get(key)
    assert doc["status"] == "features_ready"
    assert doc["features_message_id"] == message.message_id
    assert doc["attempts"] == 1
    assert doc["audio"]["format"] == "wav"
    assert {"download_ms", "decode_ms", "features_ms", "publish_ms"} <= set(doc["timings"])


def test_structured_mode_events_are_accepted_too(
    preprocess: Any, pipeline: Pipeline, cough_wav: bytes
) -> None:
    event = pipeline.upload("structured.wav", cough_wav)
    assert deliver(preprocess, storage_event(event), structured=True).status_code == 200
    assert len(pipeline.messages("features")) == 1


def test_duplicate_finalize_publishes_one_features_message(
    preprocess: Any, pipeline: Pipeline, cough_wav: bytes
) -> None:
    event = pipeline.upload("twice.wav", cough_wav)
    for _ in range(3):
        assert deliver(preprocess, storage_event(event)).status_code == 200
    assert len(pipeline.messages("features")) == 1
    assert results.get(pipeline.key("twice.wav"))["attempts"] == 1


@pytest.mark.parametrize(
    ("data", "content_type", "code"),
    [
        (text_file(), "text/plain", "unsupported_format"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt garbage", "audio/wav", "corrupt_audio"),
    ],
)
def test_bad_file_is_failed_with_its_code_and_acknowledged(
    preprocess: Any, pipeline: Pipeline, data: bytes, content_type: str, code: str
) -> None:
    event = pipeline.upload("bad.bin", data, content_type)
    assert deliver(preprocess, storage_event(event)).status_code == 200
    doc = results.get(pipeline.key("bad.bin"))
    assert doc["status"] == "failed"
    assert doc["error"]["code"] == code
    assert doc["error"]["message"]
    assert pipeline.messages("features") == []


def test_invalid_name_is_failed_without_download(preprocess: Any, pipeline: Pipeline) -> None:
    event = {"bucket": pipeline.bucket, "name": "a/../b.wav", "generation": "7", "size": "10"}
    assert deliver(preprocess, storage_event(event)).status_code == 200
    doc = results.get(pipeline.key("a/../b.wav"))
    assert (doc["status"], doc["error"]["code"], doc["generation"]) == ("failed", "invalid_name", 7)


def test_too_large_is_refused_before_download(
    preprocess: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = {"bucket": pipeline.bucket, "name": "huge.wav", "generation": "3", "size": str(10**9)}
    monkeypatch.setattr("shared.cloud.storage.download_capped", pytest.fail)
    assert deliver(preprocess, storage_event(event)).status_code == 200
    assert results.get(pipeline.key("huge.wav"))["error"]["code"] == "too_large"


def test_stale_generation_is_ignored(preprocess: Any, pipeline: Pipeline, cough_wav: bytes) -> None:
    old = pipeline.upload("again.wav", cough_wav)
    new = pipeline.upload("again.wav", sample_file("flac", seconds=1.5))
    assert deliver(preprocess, storage_event(new)).status_code == 200
    assert deliver(preprocess, storage_event(old)).status_code == 200

    [message] = pipeline.messages("features")
    assert message.attributes["generation"] == new["generation"]
    doc = results.get(pipeline.key("again.wav"))
    assert doc["generation"] == int(new["generation"])
    assert doc["audio"]["format"] == "flac"


def test_newer_generation_replaces_a_finished_result(
    preprocess: Any, pipeline: Pipeline, cough_wav: bytes
) -> None:
    old = pipeline.upload("replace.wav", text_file(), "text/plain")
    deliver(preprocess, storage_event(old))
    assert results.get(pipeline.key("replace.wav"))["status"] == "failed"

    new = pipeline.upload("replace.wav", cough_wav)
    deliver(preprocess, storage_event(new))
    doc = results.get(pipeline.key("replace.wav"))
    assert (doc["status"], doc["generation"], doc["error"]) == (
        "features_ready",
        int(new["generation"]),
        None,
    )


def test_other_event_types_are_ignored(preprocess: Any, pipeline: Pipeline, cough_wav: bytes) -> None:
    event = pipeline.upload("deleted.wav", cough_wav)
    reply = deliver(preprocess, storage_event(event, "google.cloud.storage.object.v1.deleted"))
    assert reply.status_code == 200
    assert results.get(pipeline.key("deleted.wav")) is None


def _unavailable(*args: object, **kwargs: object) -> bytes:
    raise api_exceptions.ServiceUnavailable("storage is down")


def test_transient_fault_is_retried_then_succeeds(
    preprocess: Any, pipeline: Pipeline, cough_wav: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = pipeline.upload("flaky.wav", cough_wav)
    with monkeypatch.context() as patch:
        patch.setattr("shared.cloud.storage.download_capped", _unavailable)
        assert deliver(preprocess, storage_event(event)).status_code == 500
    doc = results.get(pipeline.key("flaky.wav"))
    assert (doc["status"], doc["attempts"]) == ("received", 1)

    assert deliver(preprocess, storage_event(event)).status_code == 200
    doc = results.get(pipeline.key("flaky.wav"))
    assert (doc["status"], doc["attempts"]) == ("features_ready", 2)
    assert len(pipeline.messages("features")) == 1


def test_gives_up_after_max_attempts_and_dead_letters(
    preprocess: Any, pipeline: Pipeline, cough_wav: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAX_DELIVERY_ATTEMPTS", "3")
    results.settings.cache_clear()
    monkeypatch.setattr("shared.cloud.storage.download_capped", _unavailable)
    event = pipeline.upload("down.wav", cough_wav)
    statuses = [deliver(preprocess, storage_event(event)).status_code for _ in range(4)]
    assert statuses == [500, 500, 200, 200]

    doc = results.get(pipeline.key("down.wav"))
    assert (doc["status"], doc["error"]["code"], doc["attempts"]) == ("failed", "internal", 3)
    assert "3 delivery attempts" in doc["error"]["message"]
    [dead] = pipeline.messages("uploads-dead")
    assert json.loads(dead.data)["name"] == "down.wav"
    assert dead.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == "3"


def test_a_bug_fails_the_upload_at_once(
    preprocess: Any, pipeline: Pipeline, cough_wav: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("oops")

    monkeypatch.setattr("shared.pipeline.preprocessing.feature_matrix", broken)
    event = pipeline.upload("bug.wav", cough_wav)
    assert deliver(preprocess, storage_event(event)).status_code == 200
    assert results.get(pipeline.key("bug.wav"))["error"]["code"] == "internal"
