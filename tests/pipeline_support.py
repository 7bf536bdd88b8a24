"""Helpers for the function tests: CloudEvents as Eventarc sends them, and one isolated
set of bucket, topics and collection per test on the real emulators."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from functions_framework import create_app
from google.cloud import pubsub_v1, storage

from shared.config import settings
from shared.names import result_key
from shared.pipeline.events import FINALIZED, PUBLISHED


def storage_event(object_data: dict[str, Any], event_type: str = FINALIZED) -> CloudEvent:
    bucket = object_data["bucket"]
    return CloudEvent(
        {
            "type": event_type,
            "source": f"//storage.googleapis.com/projects/_/buckets/{bucket}",
            "subject": f"objects/{object_data['name']}",
            "id": uuid.uuid4().hex,
        },
        object_data,
    )


def pubsub_event(data: bytes, attributes: dict[str, str], delivery_attempt: int | None = None) -> CloudEvent:
    envelope: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(data).decode(),
            "attributes": attributes,
            "messageId": uuid.uuid4().hex,
            "publishTime": datetime.now(UTC).isoformat(),
        },
        "subscription": "projects/coughcloud-local/subscriptions/test",
    }
    if delivery_attempt is not None:
        envelope["deliveryAttempt"] = delivery_attempt
    return CloudEvent(
        {"type": PUBLISHED, "source": "//pubsub.googleapis.com/projects/coughcloud-local/topics/t"},
        envelope,
    )


def function_client(target: str) -> Any:
    """A functions-framework test client for `functions/<target>.py`."""
    return create_app(target=target, source=f"functions/{target}.py").test_client()


def deliver(client: Any, event: CloudEvent, structured: bool = False) -> Any:
    """POST `event` to a functions-framework test client, as Eventarc does."""
    headers, body = (to_structured if structured else to_binary)(event)
    return client.post("/", headers=headers, data=body)


@dataclass
class Pipeline:
    """A bucket, the topics and a results collection of one test, with a subscription per topic."""

    project: str
    suffix: str
    publisher: pubsub_v1.PublisherClient = field(repr=False)
    subscriber: pubsub_v1.SubscriberClient = field(repr=False)
    storage_client: storage.Client = field(repr=False)

    @property
    def bucket(self) -> str:
        return f"uploads-{self.suffix}"

    def topic(self, role: str) -> str:
        return f"{role}-{self.suffix}"

    def upload(self, name: str, data: bytes, content_type: str = "audio/wav") -> dict[str, Any]:
        """Put an object into the bucket; its finalize event's data, as Eventarc sends it."""
        blob = self.storage_client.bucket(self.bucket).blob(name)
        blob.upload_from_string(data, content_type=content_type)
        blob.reload()
        return {
            "bucket": self.bucket,
            "name": name,
            "generation": str(blob.generation),
            "size": str(blob.size),
            "contentType": content_type,
            "timeCreated": blob.time_created.isoformat(),
        }

    def messages(self, role: str) -> list[pubsub_v1.types.PubsubMessage]:
        """Every message published on the topic so far (pulled and acknowledged)."""
        path = self.subscriber.subscription_path(self.project, self.topic(role))
        found = []
        while True:
            reply = self.subscriber.pull(subscription=path, max_messages=100, timeout=5)
            if not reply.received_messages:
                return found
            found += [r.message for r in reply.received_messages]
            self.subscriber.acknowledge(
                subscription=path, ack_ids=[r.ack_id for r in reply.received_messages]
            )

    def key(self, name: str) -> str:
        return result_key(self.bucket, name)


ROLES = ("features", "results", "uploads-dead", "features-dead")


def make_pipeline(monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    suffix = uuid.uuid4().hex[:10]
    project = settings().GOOGLE_CLOUD_PROJECT
    pipeline = Pipeline(
        project,
        suffix,
        pubsub_v1.PublisherClient(),
        pubsub_v1.SubscriberClient(),
        storage.Client(project=project),
    )
    for variable, role in zip(
        ("FEATURES_TOPIC", "RESULTS_TOPIC", "UPLOADS_DEAD_LETTER_TOPIC", "FEATURES_DEAD_LETTER_TOPIC"),
        ROLES,
        strict=True,
    ):
        topic = pipeline.publisher.topic_path(project, pipeline.topic(role))
        pipeline.publisher.create_topic(name=topic)
        subscription = pipeline.subscriber.subscription_path(project, pipeline.topic(role))
        pipeline.subscriber.create_subscription(name=subscription, topic=topic)
        monkeypatch.setenv(variable, pipeline.topic(role))
    pipeline.storage_client.create_bucket(pipeline.bucket)
    monkeypatch.setenv("UPLOAD_BUCKET", pipeline.bucket)
    monkeypatch.setenv("RESULTS_COLLECTION", f"results-{suffix}")
    settings.cache_clear()
    return pipeline


def decode_json(message: pubsub_v1.types.PubsubMessage) -> dict[str, Any]:
    return json.loads(message.data)


def write_signing_key(path: Path) -> Path:
    """A throwaway service-account key file, as the local stack makes for signing upload URLs."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": settings().GOOGLE_CLOUD_PROJECT,
        "private_key_id": "test",
        "private_key": pem,
        "client_email": "test-signer@coughcloud-local.iam.gserviceaccount.com",
        "client_id": "0",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info))
    return path
