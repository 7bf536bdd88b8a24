"""functions/dead_letter.py: a dead-lettered message marks its upload failed, once."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.pipeline import results
from shared.pipeline.messages import Upload
from tests.fixtures.audio_files import sample_file
from tests.pipeline_support import Pipeline, deliver, function_client, pubsub_event, storage_event

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client() -> Any:
    return function_client("dead_letter")


def object_notification(pipeline: Pipeline, name: str, generation: int) -> tuple[bytes, dict[str, str]]:
    """A storage notification as fake-gcs-server / GCS publish it, after 5 failed deliveries."""
    body = {"bucket": pipeline.bucket, "name": name, "generation": str(generation), "size": "10"}
    attributes = {
        "bucketId": pipeline.bucket,
        "objectId": name,
        "objectGeneration": str(generation),
        "eventType": "OBJECT_FINALIZE",
        "CloudPubSubDeadLetterSourceDeliveryCount": "5",
    }
    return json.dumps(body).encode(), attributes


def test_dead_lettered_upload_event_marks_the_document_failed(client: Any, pipeline: Pipeline) -> None:
    results.claim_upload(Upload(pipeline.bucket, "stuck.wav", 11, 10, "audio/wav"), "trace")
    data, attributes = object_notification(pipeline, "stuck.wav", 11)
    assert deliver(client, pubsub_event(data, attributes)).status_code == 200

    doc = results.get(pipeline.key("stuck.wav"))
    assert (doc["status"], doc["error"]["code"]) == ("failed", "internal")
    assert "5 delivery attempts" in doc["error"]["message"]


def test_dead_letter_without_a_document_still_records_the_failure(client: Any, pipeline: Pipeline) -> None:
    data, attributes = object_notification(pipeline, "never-seen.wav", 4)
    assert deliver(client, pubsub_event(data, attributes)).status_code == 200
    doc = results.get(pipeline.key("never-seen.wav"))
    assert (doc["status"], doc["name"], doc["generation"]) == ("failed", "never-seen.wav", 4)


def test_attributes_alone_identify_the_upload(client: Any, pipeline: Pipeline) -> None:
    _, attributes = object_notification(pipeline, "attrs.wav", 9)
    assert deliver(client, pubsub_event(b"", attributes)).status_code == 200
    assert results.get(pipeline.key("attrs.wav"))["status"] == "failed"


def test_a_finished_result_is_left_alone(client: Any, pipeline: Pipeline) -> None:
    upload = Upload(pipeline.bucket, "done.wav", 3, 10, "audio/wav")
    results.claim_upload(upload, "trace")
    results.mark_done(upload, {"label": "dry", "confidence": 0.9}, {})
    data, attributes = object_notification(pipeline, "done.wav", 3)
    assert deliver(client, pubsub_event(data, attributes)).status_code == 200
    doc = results.get(pipeline.key("done.wav"))
    assert (doc["status"], doc["label"], doc["error"]) == ("done", "dry", None)


def test_a_dead_lettered_features_message_marks_the_document_failed(client: Any, pipeline: Pipeline) -> None:
    preprocess = function_client("preprocess")
    event = pipeline.upload("features.wav", sample_file("wav_pcm16"))
    deliver(preprocess, storage_event(event))
    [message] = pipeline.messages("features")
    attributes = {**message.attributes, "CloudPubSubDeadLetterSourceDeliveryCount": "5"}
    assert deliver(client, pubsub_event(message.data, attributes)).status_code == 200

    doc = results.get(pipeline.key("features.wav"))
    assert (doc["status"], doc["error"]["code"]) == ("failed", "internal")
    assert "classification" in doc["error"]["message"]


def test_a_message_naming_no_upload_is_acknowledged(client: Any, pipeline: Pipeline) -> None:
    assert deliver(client, pubsub_event(b"[1, 2]", {"x": "y"})).status_code == 200
