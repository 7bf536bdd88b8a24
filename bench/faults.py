"""Faults injected into the running local stack while uploads flow; nothing may be lost.

    .venv/bin/python -m bench.faults     # starts a stack of its own; writes bench/results/faults.json

Scenarios (each on its own uploads, checked on its own):
1. predict killed: the predict function's server is SIGKILLed by PID mid-run and
   restarted a few seconds later; the bridge's redeliveries must carry every upload on.
2. Firestore stalled: the Firestore emulator is paused (SIGSTOP) for a few seconds,
   then resumed (SIGCONT): every client call in that window hangs or times out.
3. duplicates: every upload event and every features message of a finished batch is
   published again, twice (so delivered three times in all).
4. poison: malformed messages on the uploads trigger and on `audio-features`.

Checked for each: lost = 0 (every upload `done` or `failed`), exactly one `cough-results`
message per `done` upload (no duplicate results), the dead-letter topics received what
was expected, and every dead-lettered upload's document is `failed`.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from google.cloud import pubsub_v1

from bench.stack_io import RESULTS_DIR, Stack, TopicCounter, Uploaded, own_stack
from local_stack.emulators import UPLOAD_EVENTS_TOPIC
from shared.config import settings
from shared.names import result_key
from tests.fixtures.audio_files import sample_file

WAIT_S = 120.0


@dataclass
class Scenario:
    name: str
    uploads: int = 0
    done: int = 0
    failed: int = 0
    lost: int = 0
    duplicate_results: int = 0
    missing_results: int = 0
    attempts_over_1: int = 0
    uploaded_during_fault: int = 0
    dead_letters: dict[str, int] = field(default_factory=dict)
    expected_dead_letters: dict[str, int] = field(default_factory=dict)
    dead_lettered_docs_failed: bool = True
    finished_docs_changed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.duplicate_results == 0
            and self.missing_results == 0
            and self.dead_letters == self.expected_dead_letters
            and self.dead_lettered_docs_failed
            and self.finished_docs_changed == 0
        )


class Capture:
    """Keeps a copy of every message on a topic (data + attributes), for replaying it."""

    def __init__(self, stack: Stack, topic: str, name: str) -> None:
        self.messages: list[tuple[bytes, dict[str, str]]] = []
        self._counter = TopicCounter(stack, topic, name, on_message=self._keep)

    def _keep(self, message: Any) -> None:
        self.messages.append((message.data, dict(message.attributes)))

    def close(self) -> None:
        self._counter.close()


class Watch:
    """Counts `cough-results` per key and messages on both dead-letter topics, during a scenario."""

    def __init__(self, stack: Stack, tag: str) -> None:
        cfg = settings()
        self.results = TopicCounter(stack, cfg.RESULTS_TOPIC, f"faults-{tag}-results")
        self.dead = {
            topic: TopicCounter(stack, topic, f"faults-{tag}-dl-{i}")
            for i, topic in enumerate((cfg.UPLOADS_DEAD_LETTER_TOPIC, cfg.FEATURES_DEAD_LETTER_TOPIC))
        }

    def dead_letter_counts(self) -> dict[str, int]:
        """Messages per dead-letter topic, only the topics that received any."""
        counts = {topic: sum(counter.counts.values()) for topic, counter in self.dead.items()}
        return {topic: n for topic, n in counts.items() if n}

    def close(self) -> None:
        for counter in (self.results, *self.dead.values()):
            counter.close()


def upload_many(stack: Stack, prefix: str, count: int, rate: float) -> list[Uploaded]:
    """`count` valid 1 s clips, started at `rate` per second."""
    data = sample_file("wav_pcm16", 1.0, 16_000, seed=5)
    futures = []
    t0 = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        for i in range(count):
            time.sleep(max(0.0, t0 + i / rate - time.monotonic()))
            futures.append(pool.submit(stack.upload, f"{prefix}/{i:04d}.wav", data, "audio/wav"))
        return [f.result() for f in futures]


def settle(
    stack: Stack, watch: Watch, scenario: Scenario, uploads: list[Uploaded], quiet_s: float = 3.0
) -> None:
    """Wait for every upload to finish, let late messages arrive, then fill in `scenario`."""
    finals = stack.wait_final(uploads, WAIT_S)
    time.sleep(quiet_s)  # redeliveries and dead letters that are still in flight
    scenario.uploads = len(uploads)
    scenario.done = sum(1 for d in finals.values() if d["status"] == "done")
    scenario.failed = sum(1 for d in finals.values() if d["status"] == "failed")
    scenario.lost = len(uploads) - len(finals)
    scenario.attempts_over_1 = sum(1 for d in finals.values() if int(d.get("attempts") or 1) > 1)
    done_keys = {k for k, d in finals.items() if d["status"] == "done"}
    counts = watch.results.counts
    scenario.duplicate_results = sum(1 for k in done_keys if counts[k] > 1)
    scenario.missing_results = sum(1 for k in done_keys if counts[k] == 0)
    scenario.dead_letters = watch.dead_letter_counts()


@contextmanager
def watching(stack: Stack, tag: str) -> Iterator[Watch]:
    watch = Watch(stack, tag)
    try:
        yield watch
    finally:
        watch.close()


def under_fault(stack: Stack, scenario: Scenario, tag: str, fault: Callable[[], None]) -> Scenario:
    """60 uploads at 10/s; 2 s in, run `fault` (it returns once the service is back); settle."""
    with watching(stack, tag) as watch, ThreadPoolExecutor(1) as pool:
        pending = pool.submit(upload_many, stack, tag, 60, 10.0)
        time.sleep(2.0)
        began = time.time()
        fault()
        ended = time.time()
        uploads = pending.result()
        scenario.uploaded_during_fault = sum(1 for u in uploads if began <= u.finished <= ended)
        settle(stack, watch, scenario, uploads)
    return scenario


def predict_killed(stack: Stack, run: str) -> Scenario:
    scenario = Scenario("predict's server SIGKILLed mid-run, restarted 3 s later")

    def kill_and_restart() -> None:
        old = stack.pid("predict")
        stack.restart_function("predict", down_s=3.0)
        scenario.notes.append(f"predict pid {old} killed; back as pid {stack.pid('predict')}")

    return under_fault(stack, scenario, f"{run}-kill", kill_and_restart)


def firestore_stalled(stack: Stack, run: str) -> Scenario:
    scenario = Scenario("Firestore emulator paused for 5 s")

    def stall() -> None:
        pid = stack.pid("firestore")
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(5.0)
        finally:
            os.kill(pid, signal.SIGCONT)
        scenario.notes.append(f"SIGSTOP, 5 s later SIGCONT, firestore pid {pid}")

    return under_fault(stack, scenario, f"{run}-stall", stall)


def duplicates(stack: Stack, run: str) -> Scenario:
    scenario = Scenario("every upload event and features message delivered three times")
    events = Capture(stack, UPLOAD_EVENTS_TOPIC, f"faults-{run}-events")
    features = Capture(stack, settings().FEATURES_TOPIC, f"faults-{run}-features")
    try:
        with watching(stack, f"{run}-dup") as watch:
            uploads = upload_many(stack, f"{run}/dup", 30, 10.0)
            before = {k: d["updated_at"] for k, d in stack.wait_final(uploads, WAIT_S).items()}
            names, keys = {u.name for u in uploads}, {u.key for u in uploads}
            replays = [
                (UPLOAD_EVENTS_TOPIC, [m for m in events.messages if m[1].get("objectId") in names]),
                (settings().FEATURES_TOPIC, [m for m in features.messages if m[1].get("key") in keys]),
            ]
            publisher = pubsub_v1.PublisherClient()
            for topic, messages in replays:
                path = publisher.topic_path(stack.project, topic)
                for data, attributes in messages * 2:
                    publisher.publish(path, data, **attributes).result(timeout=10)
                scenario.notes.append(f"republished {len(messages)} messages of {topic} twice")
            time.sleep(5.0)
            settle(stack, watch, scenario, uploads)
            after = stack.documents(before)
            scenario.finished_docs_changed = sum(
                1 for k, at in before.items() if after[k]["updated_at"] != at
            )
    finally:
        events.close()
        features.close()
    return scenario


def _object_event(bucket: str, name: str, generation: str, **fields: str) -> tuple[bytes, dict[str, str]]:
    """A finalize notification as fake-gcs publishes it (JSON object, notification attributes)."""
    body = {"bucket": bucket, "name": name, "generation": generation, **fields}
    attributes = {
        "bucketId": bucket,
        "objectId": name,
        "objectGeneration": generation,
        "eventType": "OBJECT_FINALIZE",
        "payloadFormat": "JSON_API_V1",
    }
    return json.dumps(body).encode(), attributes


def poison(stack: Stack, run: str) -> Scenario:
    """Malformed messages: those that crash their handler every time must be dead-lettered,
    and a dead-lettered message that names an upload must leave its document `failed`."""
    cfg = settings()
    scenario = Scenario("poison messages")
    publisher = pubsub_v1.PublisherClient()
    events = publisher.topic_path(stack.project, UPLOAD_EVENTS_TOPIC)
    features = publisher.topic_path(stack.project, cfg.FEATURES_TOPIC)
    named = f"{run}/poison-named.wav"
    acknowledged = [  # read, logged and acknowledged by predict: nothing to retry
        (features, b"\x00garbage", {}),
        (features, b"[" * 100_000, {"key": "0" * 64, "generation": "1"}),
        (features, json.dumps({"schema": "coughcloud.features.v1", "upload": None}).encode(), {}),
    ]
    crashing = [  # preprocess (or the bridge) cannot take these: 5 attempts, then dead-lettered
        (events, b"not json", {}),
        (events, *_object_event(stack.bucket, f"{run}/poison-anon.wav", "abc")),
        (events, *_object_event(stack.bucket, named, "7", size="not-a-number")),
    ]
    with watching(stack, f"{run}-poison") as watch:
        for topic, data, attributes in acknowledged + crashing:
            publisher.publish(topic, data, **attributes).result(timeout=10)
        scenario.expected_dead_letters = {cfg.UPLOADS_DEAD_LETTER_TOPIC: len(crashing)}
        uploads_dl = watch.dead[cfg.UPLOADS_DEAD_LETTER_TOPIC]
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and sum(uploads_dl.counts.values()) < len(crashing):
            time.sleep(0.5)
        time.sleep(3.0)  # anything else still in flight
        scenario.dead_letters = watch.dead_letter_counts()
        key = result_key(stack.bucket, named)
        doc = stack.documents([key]).get(key)
        scenario.dead_lettered_docs_failed = bool(doc) and doc["status"] == "failed"
        scenario.notes.append(f"dead-lettered upload's document: {doc and (doc['status'], doc['error'])}")
    return scenario


SCENARIOS: list[Callable[[Stack, str], Scenario]] = [predict_killed, firestore_stalled, duplicates, poison]


def main() -> int:
    run = f"faults-{int(time.time())}"
    outcomes = []
    with own_stack("bench-faults") as stack:
        for scenario_fn in SCENARIOS:
            outcome = scenario_fn(stack, run)
            outcomes.append(outcome)
            print(("ok  " if outcome.ok else "BAD ") + json.dumps(outcome.__dict__, default=str), flush=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    report = [{**o.__dict__, "ok": o.ok} for o in outcomes]
    (RESULTS_DIR / "faults.json").write_text(json.dumps(report, indent=1, default=str))
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
