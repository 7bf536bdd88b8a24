"""The four Cloud Functions, each under its own functions-framework server on a free port
(local_stack/server.py: the same server as its CLI, with request limits set)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from local_stack import processes
from local_stack.processes import Child
from shared.config import REPO_ROOT

FUNCTIONS = ("preprocess", "predict", "results_api", "dead_letter")


def ready_url(name: str, port: int) -> str:
    """A URL that answers once the server is up (the CloudEvent ones answer a GET with 4xx)."""
    return f"http://127.0.0.1:{port}/healthz" if name == "results_api" else f"http://127.0.0.1:{port}/"


def start_function(name: str, port: int, env: Mapping[str, str], log_dir: Path) -> Child:
    """`functions-framework --source functions/<name>.py --target <name>` with the repo importable."""
    argv = [
        sys.executable, "-m", "local_stack.server",
        "--source", str(REPO_ROOT / "functions" / f"{name}.py"),
        "--target", name,
        "--host", "127.0.0.1",
        "--port", str(port),
    ]  # fmt: skip
    full_env = {**env, "PYTHONPATH": str(REPO_ROOT)}
    url = ready_url(name, port)
    ready = lambda: processes.http_ok(url)  # noqa: E731
    return processes.start(name, argv, port, ready, full_env, log_dir, stop_signal=signal.SIGINT)
