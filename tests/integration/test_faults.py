"""Faults on the running stack: a Firestore outage is retried until it recovers; a poison
event is retried MAX_DELIVERY_ATTEMPTS times, dead-lettered, and its document marked failed."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from google.cloud import pubsub_v1

from local_stack import processes
from local_stack.emulators import UPLOAD_EVENTS_TOPIC, start_firestore
from shared.config import settings
from tests.fixtures.audio_files import sample_file
from tests.integration.support import TopicTap, unique_name, wait_for_result

pytestmark = pytest.mark.integration

OUTAGE_S = 2.0


def test_a_firestore_outage_is_retried_and_recovers(stack, env, bucket):
    """Uploaded while Firestore is down: its first write waits (the client retries, then the
    bridge redelivers) until the emulator is back, and the upload still ends `done`."""
    firestore = stack.child("firestore")
    processes.stop_pid(firestore["pid"])
    try:
        name = unique_name("outage")
        bucket.blob(name).upload_from_string(sample_file("wav_pcm16", seed=8), content_type="audio/wav")
        time.sleep(OUTAGE_S)
    finally:
        # Back on the SAME port (its data is gone, as after a real restart of the emulator).
        replacement = start_firestore(firestore["port"], stack.options.log_dir)
        stack.adopted.append(replacement)
        replacement.wait_ready()
        back_at = datetime.now(UTC)

    document = wait_for_result(env, name)
    assert document["status"] == "done", document
    assert int(document["generation"]) == bucket.get_blob(name).generation
    assert datetime.fromisoformat(document["updated_at"]) >= back_at  # finished once it was back


def test_a_poison_event_is_dead_lettered_and_its_document_marked_failed(env):
    config = settings()
    dead_letters = TopicTap(env, config.UPLOADS_DEAD_LETTER_TOPIC)
    name = unique_name("poison")
    generation = "1700000000000001"
    # A finalize notification the preprocess function cannot take: it answers 500 every time.
    poison = {"bucket": config.UPLOAD_BUCKET, "name": name, "generation": generation, "size": "NaN"}
    attributes = {
        "bucketId": config.UPLOAD_BUCKET,
        "objectId": name,
        "objectGeneration": generation,
        "eventType": "OBJECT_FINALIZE",
        "payloadFormat": "JSON_API_V1",
    }
    publisher = pubsub_v1.PublisherClient()
    topic = publisher.topic_path(config.GOOGLE_CLOUD_PROJECT, UPLOAD_EVENTS_TOPIC)
    try:
        publisher.publish(topic, json.dumps(poison).encode(), **attributes).result(timeout=10)

        document = wait_for_result(env, name)
        assert document["status"] == "failed"
        assert document["error"]["code"] == "internal"
        assert int(document["generation"]) == int(generation)
        [dead] = dead_letters.wait_for(1, lambda m: m.attributes.get("objectId") == name)
        assert dead.attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == str(
            config.MAX_DELIVERY_ATTEMPTS
        )
        assert json.loads(dead.data) == poison
    finally:
        dead_letters.close()
