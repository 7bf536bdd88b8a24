"""Publishing to Pub/Sub: one publisher per process, created on first use (cold start)."""

from __future__ import annotations

import functools

from google.cloud import pubsub_v1

from shared.config import settings

PUBLISH_TIMEOUT_S = 30.0


@functools.cache
def _publisher() -> pubsub_v1.PublisherClient:
    # The default 10 ms batching window dominates one-message-at-a-time latency (docs/design/emulators.md).
    batch = pubsub_v1.types.BatchSettings(max_latency=0.001, max_messages=100)
    return pubsub_v1.PublisherClient(batch_settings=batch)


def topic_path(topic: str) -> str:
    return _publisher().topic_path(settings().GOOGLE_CLOUD_PROJECT, topic)


def publish(topic: str, data: bytes, attributes: dict[str, str]) -> str:
    """Publish one message and wait for the server's message id (raises on failure)."""
    future = _publisher().publish(topic_path(topic), data, **attributes)
    return future.result(timeout=PUBLISH_TIMEOUT_S)
