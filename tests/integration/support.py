"""Helpers of the integration tests: read results, listen on a topic, copy an event.

The tests upload with service credentials (outside `users/`), so their results are not
served by the public API: they are read from Firestore directly, as `coughcloud` does.
Reads over HTTP with a visitor's token are in test_accounts.py.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
import uuid
from typing import Any

from google.cloud import firestore, pubsub_v1

from shared.config import REPO_ROOT
from shared.names import result_key
from shared.pipeline.messages import FINISHED, to_json_safe

WAIT_S = 30.0


def coughcloud(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the `coughcloud` command as a user does, in the repository."""
    argv = [sys.executable, "-m", "coughcloud.cli", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)


def unique_name(prefix: str, suffix: str = ".wav") -> str:
    return f"it/{prefix}/{uuid.uuid4().hex[:12]}{suffix}"


@functools.cache
def _firestore(project: str, host: str) -> firestore.Client:
    """One client per stack; the `env` fixture has exported FIRESTORE_EMULATOR_HOST = `host`."""
    assert os.environ.get("FIRESTORE_EMULATOR_HOST") == host
    return firestore.Client(project=project)


def get_result(env: dict[str, str], name: str) -> dict[str, Any] | None:
    """The result document of `name` in the stack's Firestore (timestamps as RFC 3339), or None."""
    client = _firestore(env["GOOGLE_CLOUD_PROJECT"], env["FIRESTORE_EMULATOR_HOST"])
    key = result_key(env["UPLOAD_BUCKET"], name)
    snapshot = client.collection("results").document(key).get()
    return {"key": key, **to_json_safe(snapshot.to_dict())} if snapshot.exists else None


def wait_for_result(
    env: dict[str, str], name: str, generation: int | None = None, timeout: float = WAIT_S
) -> dict[str, Any]:
    """Poll until `name` is done/failed (for `generation`, when given)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        document = get_result(env, name)
        if document is not None:
            last = document
            if last["status"] in FINISHED and generation in (None, int(last["generation"])):
                return last
        time.sleep(0.02)
    raise AssertionError(f"{name} not finished after {timeout} s; last document: {last}")


class TopicTap:
    """A subscription of its own on `topic`, created now: it sees what is published from now on."""

    def __init__(self, env: dict[str, str], topic: str) -> None:
        self.project = env["GOOGLE_CLOUD_PROJECT"]
        self.subscriber = pubsub_v1.SubscriberClient()
        self.path = self.subscriber.subscription_path(self.project, f"tap-{topic}-{uuid.uuid4().hex[:8]}")
        self.subscriber.create_subscription(
            name=self.path, topic=self.subscriber.topic_path(self.project, topic), ack_deadline_seconds=60
        )

    def pull(self) -> list[pubsub_v1.types.PubsubMessage]:
        """Everything waiting now, acknowledged."""
        found = []
        while True:
            reply = self.subscriber.pull(subscription=self.path, max_messages=100, timeout=10)
            if not reply.received_messages:
                return found
            found += [r.message for r in reply.received_messages]
            self.subscriber.acknowledge(
                subscription=self.path, ack_ids=[r.ack_id for r in reply.received_messages]
            )

    def wait_for(self, count: int, match: Any = lambda m: True, timeout: float = WAIT_S) -> list[Any]:
        """Pull until `count` messages matching `match` have arrived; return those."""
        matched: list[Any] = []
        deadline = time.monotonic() + timeout
        while len(matched) < count and time.monotonic() < deadline:
            matched += [m for m in self.pull() if match(m)]
            time.sleep(0.02)
        return matched

    def close(self) -> None:
        self.subscriber.delete_subscription(subscription=self.path)
        self.subscriber.close()


def republish(env: dict[str, str], topic: str, message: Any, times: int = 1) -> None:
    """Publish copies of `message` (data and attributes) on `topic`: a redelivered event."""
    publisher = pubsub_v1.PublisherClient()
    path = publisher.topic_path(env["GOOGLE_CLOUD_PROJECT"], topic)
    for _ in range(times):
        publisher.publish(path, bytes(message.data), **dict(message.attributes)).result(timeout=10)
