"""The Eventarc bridge: `python -m local_stack.bridge --target preprocess=http://… …`.

On Google Cloud, Eventarc pushes each trigger's messages to its function as CloudEvents
and retries non-2xx replies with backoff; after the retry budget Pub/Sub moves the message
to the trigger's dead-letter topic. The emulators do none of that, so this process does:
it streams each trigger subscription, POSTs every message as a binary-mode CloudEvent
(`ce-*` headers), acks on 2xx, nacks failures after an exponential backoff (so redelivery
counts `delivery_attempt` up), and on the last attempt publishes the message to the
dead-letter topic (with Pub/Sub's `CloudPubSubDeadLetter*` attributes) and acks it.
"""

from __future__ import annotations

import argparse
import base64
import heapq
import itertools
import json
import signal
import threading
import time
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import urllib3
from google.cloud import pubsub_v1
from google.cloud.pubsub_v1.subscriber.message import Message
from google.cloud.pubsub_v1.subscriber.scheduler import ThreadScheduler

from local_stack.resources import Trigger, triggers
from shared import logs
from shared.config import Settings, settings
from shared.pipeline.events import FINALIZED, PUBLISHED

# Messages in flight per trigger (the functions-framework servers run 8 threads each).
CONCURRENCY = {"preprocess": 16, "predict": 16, "dead_letter": 4}
POST_TIMEOUT_S = 50.0  # under the subscriptions' 60 s ack deadline


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def storage_cloudevent(message: Message) -> tuple[dict[str, str], bytes]:
    """A fake-gcs OBJECT_FINALIZE notification as Eventarc's `object.v1.finalized` CloudEvent."""
    obj = json.loads(message.data)
    headers = {
        "ce-specversion": "1.0",
        "ce-id": message.message_id,
        "ce-type": FINALIZED,
        "ce-source": f"//storage.googleapis.com/projects/_/buckets/{obj['bucket']}",
        # Percent-encoded as the CloudEvents HTTP binding requires: a name may hold any
        # Unicode (咳嗽.wav) and even control characters, which an HTTP header cannot carry.
        "ce-subject": "objects/" + urllib.parse.quote(obj["name"], safe="/"),
        "ce-time": obj.get("updated") or obj.get("timeCreated") or _now(),
        "Content-Type": "application/json",
    }
    return headers, bytes(message.data)


def pubsub_cloudevent(message: Message, project: str, trigger: Trigger) -> tuple[dict[str, str], bytes]:
    """A Pub/Sub message as Eventarc's `messagePublished` CloudEvent (push envelope as data)."""
    publish_time = _now()  # the emulator's gRPC replies carry no publish time
    envelope: dict[str, Any] = {
        "message": {
            "data": base64.b64encode(message.data).decode(),
            "attributes": dict(message.attributes),
            "messageId": message.message_id,
            "message_id": message.message_id,
            "publishTime": publish_time,
            "publish_time": publish_time,
        },
        "subscription": f"projects/{project}/subscriptions/{trigger.subscription}",
        "deliveryAttempt": message.delivery_attempt or 1,
    }
    headers = {
        "ce-specversion": "1.0",
        "ce-id": message.message_id,
        "ce-type": PUBLISHED,
        "ce-source": f"//pubsub.googleapis.com/projects/{project}/topics/{trigger.topic}",
        "ce-time": publish_time,
        "Content-Type": "application/json",
    }
    return headers, json.dumps(envelope).encode()


class DelayedCalls:
    """Runs callables after a delay on one thread (a nack after backoff), in due order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="delayed-nacks", daemon=True)
        self._thread.start()

    def call_later(self, delay_s: float, call: Callable[[], None]) -> None:
        with self._wake:
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._order), call))
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._wake.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopped:
                    return
                _, _, call = heapq.heappop(self._heap)
            call()


class Bridge:
    """Streams every trigger subscription and delivers its messages to the function URLs."""

    def __init__(
        self,
        config: Settings,
        targets: dict[str, str],
        retry_base_s: float = 0.5,
        retry_max_s: float = 10.0,
    ) -> None:
        self.config = config
        self.targets = targets
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.max_attempts = config.MAX_DELIVERY_ATTEMPTS
        # urllib3 rather than requests: a third of the CPU per POST, and this is the hot path.
        self.http = urllib3.PoolManager(num_pools=len(targets), maxsize=32, retries=False)
        self.subscriber = pubsub_v1.SubscriberClient()
        self.publisher = pubsub_v1.PublisherClient()
        self.delayed = DelayedCalls()
        self.futures: list[Any] = []

    def start(self) -> None:
        project = self.config.GOOGLE_CLOUD_PROJECT
        for trigger in triggers(self.config):
            workers = CONCURRENCY[trigger.function]
            scheduler = ThreadScheduler(ThreadPoolExecutor(workers, thread_name_prefix=trigger.subscription))
            self.futures.append(
                self.subscriber.subscribe(
                    self.subscriber.subscription_path(project, trigger.subscription),
                    callback=lambda message, trigger=trigger: self.deliver(trigger, message),
                    flow_control=pubsub_v1.types.FlowControl(max_messages=workers * 4),
                    scheduler=scheduler,
                )
            )

    def stop(self) -> None:
        for future in self.futures:
            future.cancel()
        for future in self.futures:
            future.result(timeout=5)
        self.delayed.stop()
        self.subscriber.close()

    def cloudevent(self, trigger: Trigger, message: Message) -> tuple[dict[str, str], bytes]:
        if trigger.function == "preprocess":
            return storage_cloudevent(message)
        return pubsub_cloudevent(message, self.config.GOOGLE_CLOUD_PROJECT, trigger)

    def deliver(self, trigger: Trigger, message: Message) -> None:
        """POST one message; ack on 2xx, else nack after backoff or dead-letter on the last attempt."""
        attempt = message.delivery_attempt or 1
        try:
            headers, body = self.cloudevent(trigger, message)
            reply = self.http.request(
                "POST", self.targets[trigger.function], body=body, headers=headers, timeout=POST_TIMEOUT_S
            )
            if 200 <= reply.status < 300:
                message.ack()
                return
            reason = f"HTTP {reply.status}"
        except (urllib3.exceptions.HTTPError, ValueError, KeyError) as error:
            reason = f"{type(error).__name__}: {error}"
        if attempt >= self.max_attempts and trigger.dead_letter_topic:
            logs.log_bridge_delivery_failed(trigger.function, message.message_id, attempt, reason, None)
            self.dead_letter(trigger, message, attempt)
            return
        delay = min(self.retry_base_s * 2 ** (attempt - 1), self.retry_max_s)
        logs.log_bridge_delivery_failed(trigger.function, message.message_id, attempt, reason, delay)
        self.delayed.call_later(delay, message.nack)

    def dead_letter(self, trigger: Trigger, message: Message, attempts: int) -> None:
        """Forward to the dead-letter topic as Pub/Sub does, then ack the original."""
        assert trigger.dead_letter_topic
        project = self.config.GOOGLE_CLOUD_PROJECT
        topic = self.publisher.topic_path(project, trigger.dead_letter_topic)
        attributes = {
            **message.attributes,
            "CloudPubSubDeadLetterSourceDeliveryCount": str(attempts),
            "CloudPubSubDeadLetterSourceSubscription": trigger.subscription,
            "CloudPubSubDeadLetterSourceSubscriptionProject": project,
            "CloudPubSubDeadLetterSourceTopicPublishTime": _now(),
        }
        self.publisher.publish(topic, bytes(message.data), **attributes).result(timeout=30)
        logs.log_bridge_dead_lettered(
            trigger.function, message.message_id, attempts, trigger.dead_letter_topic
        )
        message.ack()


def _target(text: str) -> tuple[str, str]:
    function, sep, url = text.partition("=")
    if not sep or not url.startswith("http"):
        raise argparse.ArgumentTypeError(f"expected FUNCTION=URL, got {text!r}")
    return function, url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=_target, action="append", required=True, help="FUNCTION=URL")
    parser.add_argument("--retry-base", type=float, default=0.5, help="first backoff, seconds (doubles)")
    parser.add_argument("--retry-max", type=float, default=10.0, help="longest backoff, seconds")
    args = parser.parse_args(argv)
    bridge = Bridge(settings(), dict(args.target), args.retry_base, args.retry_max)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    bridge.start()
    stop.wait()
    bridge.stop()


if __name__ == "__main__":
    main()
