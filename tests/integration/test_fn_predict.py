"""functions/predict.py through functions-framework's test predict, on the real emulators."""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from google.api_core import exceptions as api_exceptions

from shared.config import BUNDLED_MODEL_DIR, settings
from shared.ml.model import INCONCLUSIVE
from shared.pipeline import results
from shared.pipeline.messages import FeaturesMessage
from shared.pipeline.prediction import predict_features
from tests.fixtures.audio_files import sample_file
from tests.pipeline_support import Pipeline, deliver, pubsub_event, storage_event

pytestmark = pytest.mark.integration

LABELS = tuple(json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())["labels"])


def features_for(pipeline: Pipeline, preprocess: Any, name: str, seconds: float = 1.0) -> Any:
    """Upload a clip, run preprocess on it, and return the features message it published."""
    event = pipeline.upload(name, sample_file("wav_pcm16", seconds=seconds))
    assert deliver(preprocess, storage_event(event)).status_code == 200
    [message] = pipeline.messages("features")
    return message


def test_result_is_written_once_and_published_once_for_three_deliveries(
    predict: Any, preprocess: Any, pipeline: Pipeline
) -> None:
    message = features_for(pipeline, preprocess, "cough.wav")
    for _ in range(3):
        reply = deliver(predict, pubsub_event(message.data, dict(message.attributes)))
        assert reply.status_code == 200

    key = pipeline.key("cough.wav")
    doc = results.get(key)
    assert doc["status"] == "done"
    assert doc["label"] in (*LABELS, INCONCLUSIVE)
    assert set(doc["probabilities"]) == set(LABELS)
    assert sum(doc["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert doc["confidence"] == pytest.approx(max(doc["probabilities"].values()))
    assert set(doc["model"]) == {"name", "version", "sha256", "training_data", "alias", "labels",
                                 "negative_labels", "display_names"}  # fmt: skip
    assert (doc["model"]["labels"], doc["model"]["negative_labels"]) == (list(LABELS), ["not_cough"])
    assert doc["model"]["alias"] == "champion"  # no pointer document: MODEL_URI's version serves
    assert doc["model"]["training_data"] == "mixed"  # the shipped 1.5.0: real non-coughs too
    assert {"inference_ms", "predict_ms", "pipeline_ms", "decode_ms"} <= set(doc["timings"])

    [published] = pipeline.messages("results")
    body = json.loads(published.data)
    assert body["key"] == key
    assert (body["status"], body["label"], body["generation"]) == ("done", doc["label"], doc["generation"])
    assert body["created_at"] == doc["created_at"].isoformat()
    assert dict(published.attributes) == {
        "key": key,
        "generation": str(doc["generation"]),
        "status": "done",
        "label": doc["label"],
        "owner": "",
    }


def test_the_result_lines_carry_what_the_log_based_metrics_extract(
    predict: Any, preprocess: Any, pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    """infra/terraform/monitoring.tf reads these fields; tests/infra/test_monitoring.py checks the filters."""
    message = features_for(pipeline, preprocess, "metrics.wav")
    capsys.readouterr()
    assert deliver(predict, pubsub_event(message.data, dict(message.attributes))).status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [done] = [line for line in lines if line.get("event") == "prediction_done"]
    doc = results.get(pipeline.key("metrics.wav"))
    assert done["model_version"] == doc["model"]["version"]
    assert done["timings"]["pipeline_ms"] == doc["timings"]["pipeline_ms"] > 0
    assert {"queue_ms", "preprocess_ms", "predict_ms"} <= set(done["timings"])
    [published] = [line for line in lines if line.get("event") == "result_published"]
    assert (published["status"], published["code"]) == ("done", None)


def test_concurrent_deliveries_produce_one_result_message(preprocess: Any, pipeline: Pipeline) -> None:
    message = features_for(pipeline, preprocess, "race.wav")
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: predict_features(message.data, dict(message.attributes), None), range(6)))
    assert results.get(pipeline.key("race.wav"))["status"] == "done"
    assert len(pipeline.messages("results")) == 1


def test_a_different_feature_spec_is_a_model_error(predict: Any, preprocess: Any, pipeline: Pipeline) -> None:
    message = features_for(pipeline, preprocess, "spec.wav")
    features = FeaturesMessage.from_bytes(message.data)
    altered = dataclasses.replace(
        features, spec={**features.spec, "hop_length": features.spec["hop_length"] * 2}
    )
    assert deliver(predict, pubsub_event(altered.to_bytes(), altered.attributes())).status_code == 200

    doc = results.get(pipeline.key("spec.wav"))
    assert (doc["status"], doc["error"]["code"]) == ("failed", "model_error")
    assert "hop_length" in doc["error"]["message"]
    [published] = pipeline.messages("results")  # subscribers hear of failures too
    assert dict(published.attributes)["status"] == "failed"
    assert json.loads(published.data)["error"]["code"] == "model_error"


def test_features_of_an_older_generation_are_ignored(
    predict: Any, preprocess: Any, pipeline: Pipeline
) -> None:
    old = features_for(pipeline, preprocess, "gen.wav")
    new = features_for(pipeline, preprocess, "gen.wav", seconds=1.5)
    assert deliver(predict, pubsub_event(old.data, dict(old.attributes))).status_code == 200
    assert results.get(pipeline.key("gen.wav"))["status"] == "features_ready"
    assert pipeline.messages("results") == []

    assert deliver(predict, pubsub_event(new.data, dict(new.attributes))).status_code == 200
    doc = results.get(pipeline.key("gen.wav"))
    assert (doc["status"], str(doc["generation"])) == ("done", new.attributes["generation"])


def test_unreadable_message_fails_its_document(predict: Any, preprocess: Any, pipeline: Pipeline) -> None:
    message = features_for(pipeline, preprocess, "garbled.wav")
    assert deliver(predict, pubsub_event(b"{not json", dict(message.attributes))).status_code == 200
    doc = results.get(pipeline.key("garbled.wav"))
    assert (doc["status"], doc["error"]["code"]) == ("failed", "internal")


def test_unreadable_message_without_attributes_is_acknowledged(predict: Any, pipeline: Pipeline) -> None:
    assert deliver(predict, pubsub_event(b"\x00\x01", {})).status_code == 200


def _publish_fails(*args: object, **kwargs: object) -> str:
    raise api_exceptions.ServiceUnavailable("pubsub is down")


def test_failed_result_publish_is_redone_on_redelivery(
    predict: Any, preprocess: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = features_for(pipeline, preprocess, "publish.wav")
    with monkeypatch.context() as patch:
        patch.setattr("shared.cloud.pubsub.publish", _publish_fails)
        assert deliver(predict, pubsub_event(message.data, dict(message.attributes))).status_code == 500
    assert results.get(pipeline.key("publish.wav"))["status"] == "features_ready"

    assert deliver(predict, pubsub_event(message.data, dict(message.attributes))).status_code == 200
    assert results.get(pipeline.key("publish.wav"))["status"] == "done"
    assert len(pipeline.messages("results")) == 1


def test_last_attempt_dead_letters_and_fails(
    predict: Any, preprocess: Any, pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = features_for(pipeline, preprocess, "last.wav")

    def store_down(*args: object, **kwargs: object) -> None:
        raise api_exceptions.DeadlineExceeded("firestore is slow")

    monkeypatch.setattr("shared.pipeline.results.mark_done", store_down)
    attempts = settings().MAX_DELIVERY_ATTEMPTS
    early = pubsub_event(message.data, dict(message.attributes), delivery_attempt=attempts - 1)
    assert deliver(predict, early).status_code == 500
    last = pubsub_event(message.data, dict(message.attributes), delivery_attempt=attempts)
    assert deliver(predict, last).status_code == 200

    doc = results.get(pipeline.key("last.wav"))
    assert (doc["status"], doc["error"]["code"]) == ("failed", "internal")
    [dead] = pipeline.messages("features-dead")
    assert dead.data == message.data
    assert dead.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == str(attempts)
