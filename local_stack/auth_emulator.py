"""The Firebase Auth emulator (firebase-tools from npm, `local_stack/auth/`), on free ports.

Only its Auth emulator runs (its Storage, Firestore and Pub/Sub emulators need Java and a
download: docs/design/emulators.md). With a `demo-` project it works offline and touches no
real project. It takes 13–18 s to answer on 2 idle cores (30–37 s when they are busy: its
start is CPU-bound), so the stack starts it first and waits for it last. Sign-in goes
through its REST API with any API key (`fake-api-key`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from local_stack import processes
from local_stack.processes import Child

AUTH_DIR = Path(__file__).resolve().parent / "auth"
FIREBASE_CLI = AUTH_DIR / "node_modules" / "firebase-tools" / "lib" / "bin" / "firebase.js"
LOCAL_API_KEY = "fake-api-key"
READY_TIMEOUT_S = 120.0


def _firebase_json(auth_port: int) -> dict:
    """Auth only, UI off; the hub and logging ports too are free ones (defaults 4400/4500 may be taken)."""
    return {
        "emulators": {
            "auth": {"host": "127.0.0.1", "port": auth_port},
            "hub": {"host": "127.0.0.1", "port": processes.free_port()},
            "logging": {"host": "127.0.0.1", "port": processes.free_port()},
            "ui": {"enabled": False},
            "singleProjectMode": True,
        }
    }


def start_auth(port: int, project: str, state_dir: Path, log_dir: Path) -> Child:
    """`firebase emulators:start --only auth --project <project>`, its config in `state_dir/auth/`."""
    if not FIREBASE_CLI.is_file():
        raise processes.StartupError(f"{FIREBASE_CLI} is missing: run `make setup` (npm ci in {AUTH_DIR}).")
    if not project.startswith("demo-"):
        raise processes.StartupError(
            f"GOOGLE_CLOUD_PROJECT={project!r}: the Auth emulator needs a 'demo-' project to run offline."
        )
    work = state_dir / "auth"
    work.mkdir(parents=True, exist_ok=True)
    config = work / "firebase.json"
    config.write_text(json.dumps(_firebase_json(port), indent=2))
    url = f"http://127.0.0.1:{port}/"
    argv = ["node", str(FIREBASE_CLI), "emulators:start", "--only", "auth"]
    argv += ["--project", project, "--config", str(config)]
    # TMPDIR: firebase-tools keeps a "hub locator" per project id in the temp directory; each
    # stack (a test session's, `make run`) keeps its own instead of warning about the others'.
    env = {**os.environ, "NO_UPDATE_NOTIFIER": "1", "TMPDIR": str(work)}
    return processes.start(
        "auth", argv, port, lambda: processes.http_ok(url), env=env, log_dir=log_dir, cwd=work
    )


def auth_env(port: int) -> dict[str, str]:
    """What the functions and clients read: the bare `host:port` (firebase-admin's form) and the key."""
    return {"FIREBASE_AUTH_EMULATOR_HOST": f"127.0.0.1:{port}", "FIREBASE_API_KEY": LOCAL_API_KEY}
