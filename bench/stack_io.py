"""A running local stack as the reliability benchmarks use it: upload with the official
Storage client, read result documents from Firestore in batches, listen on a topic.

`own_stack()` starts a stack of the benchmark's own and exports its endpoints, so every
Google client and `shared.config.settings()` in this process point at its emulators.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.cloud import firestore, pubsub_v1, storage

from local_stack import processes
from local_stack.functions import start_function
from local_stack.processes import LOCAL_DIR, Child
from local_stack.stack import StackOptions, start_detached, stop_detached
from local_stack.stack_env import read_stack_env
from shared.config import REPO_ROOT, settings
from shared.names import result_key
from shared.pipeline.messages import FINISHED

RESULTS_DIR = REPO_ROOT / "bench" / "results"
BATCH = 100


@dataclass(frozen=True)
class Uploaded:
    """One object put into the uploads bucket, and when the upload call started and returned."""

    name: str
    generation: int
    key: str
    started: float
    finished: float


@dataclass
class Stack:
    """A client of one running stack: `env` as in its stack.env, `state` as in its stack.json."""

    env: dict[str, str]
    state: dict[str, Any] = field(default_factory=dict, repr=False)
    log_dir: Path = LOCAL_DIR
    replacements: list[Child] = field(default_factory=list, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def project(self) -> str:
        return self.env["GOOGLE_CLOUD_PROJECT"]

    @property
    def bucket(self) -> str:
        return self.env["UPLOAD_BUCKET"]

    @property
    def api_url(self) -> str:
        return self.env["RESULTS_API_URL"].rstrip("/")

    @functools.cached_property
    def db(self) -> firestore.Client:
        return firestore.Client(project=self.project)  # FIRESTORE_EMULATOR_HOST is exported

    def _bucket(self) -> storage.Bucket:
        """One Storage client per thread (its HTTP session is not shared across threads)."""
        if not hasattr(self._local, "bucket"):
            self._local.bucket = storage.Client(project=self.project).bucket(self.bucket)
        return self._local.bucket

    def pid(self, child: str) -> int:
        """The PID of one of the stack's processes (or of its replacement)."""
        for replacement in reversed(self.replacements):
            if replacement.name == child:
                return replacement.pid
        return next(c["pid"] for c in self.state["children"] if c["name"] == child)

    def restart_function(self, name: str, down_s: float) -> Child:
        """SIGKILL a function's server by PID; `down_s` later start it again on its port, with
        the environment it had (read from /proc)."""
        pid = self.pid(name)
        port = next(c["port"] for c in self.state["children"] if c["name"] == name)
        raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        env = dict(item.decode().split("=", 1) for item in raw if b"=" in item)
        os.kill(pid, signal.SIGKILL)
        while processes.pid_alive(pid):
            time.sleep(0.01)
        time.sleep(down_s)
        child = start_function(name, port, env, self.log_dir)
        self.replacements.append(child)
        child.wait_ready()
        return child

    def upload(self, name: str, data: bytes, content_type: str = "audio/wav") -> Uploaded:
        started = time.time()
        blob = self._bucket().blob(name)
        blob.upload_from_string(data, content_type=content_type)
        return Uploaded(name, int(blob.generation), result_key(self.bucket, name), started, time.time())

    def object_names(self) -> list[str]:
        return [b.name for b in self._bucket().client.list_blobs(self.bucket)]

    def documents(self, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The result documents that exist among `keys`, read in batches."""
        keys = list(keys)
        collection = self.db.collection(self.env.get("RESULTS_COLLECTION", "results"))
        found = {}
        for i in range(0, len(keys), BATCH):
            refs = [collection.document(k) for k in keys[i : i + BATCH]]
            for snap in self.db.get_all(refs):
                if snap.exists:
                    found[snap.id] = snap.to_dict()
        return found

    def wait_final(
        self, uploads: Iterable[Uploaded], timeout: float, poll: float = 0.5
    ) -> dict[str, dict[str, Any]]:
        """Poll until every upload's document is done/failed for its generation (or time runs out)."""
        pending = {u.key: u.generation for u in uploads}
        final: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for key, doc in self.documents(pending).items():
                if doc.get("status") in FINISHED and int(doc.get("generation") or 0) == pending[key]:
                    final[key] = doc
                    del pending[key]
            if pending:
                time.sleep(poll)
        return final


@contextmanager
def add_env_argument(parser: argparse.ArgumentParser) -> None:
    """--env FILE, as the CLI takes it: load a running deployment instead of a stack of one's own."""
    parser.add_argument(
        "--env",
        type=Path,
        metavar="FILE",
        help="KEY=VALUE file of a running deployment to load (a Google Cloud project after "
        "`terraform apply`, or a local stack's .local/stack.env); default: start a local stack",
    )


@contextmanager
def target_stack(name: str, env_file: Path | None) -> Iterator[Stack]:
    """The stack a benchmark loads: its own (`own_stack`), or the deployment `env_file` names.

    Against a deployment the official clients use its project with the caller's credentials
    (Application Default Credentials), or the emulators the file names; nothing is started or
    stopped. Its processes are known only for a local stack (stack.json beside the file).
    """
    if env_file is None:
        with own_stack(name) as stack:
            yield stack
        return
    if not env_file.is_file():
        raise SystemExit(f"--env: no file at {env_file}")
    env = read_stack_env(env_file)
    state_file = env_file.with_name("stack.json")
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    os.environ.update(env)
    settings.cache_clear()
    yield Stack(env, state=state)


def results_file(name: str, env_file: Path | None) -> Path:
    """bench/results/<name>.json for the benchmark's own stack; <name>-<env file stem>.json for a
    deployment, so a cloud run never replaces the local figures `coughcloud capacity` reads."""
    return RESULTS_DIR / (f"{name}.json" if env_file is None else f"{name}-{env_file.stem}.json")


def own_stack(name: str) -> Iterator[Stack]:
    """A fresh local stack for one benchmark (its own ports, state and logs under .local/<name>),
    started as `coughcloud up --detach` does and stopped, with anything restarted, at the end."""
    options = StackOptions(state_dir=LOCAL_DIR / name)
    stop_detached(options)  # left over by an interrupted run
    state = start_detached(options)
    stack = Stack(dict(state["env"]), state=state, log_dir=options.log_dir)
    os.environ.update(stack.env)  # the official clients read the emulator hosts from here
    settings.cache_clear()
    try:
        yield stack
    finally:
        stop_detached(options)
        for child in stack.replacements:
            child.stop()


class TopicCounter:
    """Counts the messages on a topic per `key` attribute, through a subscription of its own
    (created now: it sees what is published from now on); `on_message` also sees each one."""

    def __init__(
        self, stack: Stack, topic: str, name: str, on_message: Callable[[Any], None] | None = None
    ) -> None:
        self.counts: Counter[str] = Counter()
        self._also = on_message
        self._lock = threading.Lock()
        self._subscriber = pubsub_v1.SubscriberClient()
        self.subscription = self._subscriber.subscription_path(stack.project, f"{name}-{os.getpid()}")
        topic_path = self._subscriber.topic_path(stack.project, topic)
        self._subscriber.create_subscription(
            name=self.subscription, topic=topic_path, ack_deadline_seconds=60
        )
        self._future = self._subscriber.subscribe(self.subscription, self._on_message)

    def _on_message(self, message: Any) -> None:
        with self._lock:
            self.counts[message.attributes.get("key", "")] += 1
            if self._also is not None:
                self._also(message)
        message.ack()

    def close(self) -> None:
        self._future.cancel()
        self._subscriber.delete_subscription(subscription=self.subscription)
        self._subscriber.close()
