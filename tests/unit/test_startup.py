"""What keeps the cold-start cuts: each function imports only what its path needs, and the
start-up steps done ahead of need are safe across gunicorn's fork."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import threading
import time

import pytest

from shared import startup
from shared.config import REPO_ROOT
from shared.ml import model

AUDIO_DECODERS = ("av", "soundfile", "soxr")
# What each function must not import when functions-framework loads it (its cold start).
NOT_IMPORTED = {
    "results_api": (
        *AUDIO_DECODERS,
        "ai_edge_litert",
        "onnxruntime",
        "google.cloud.pubsub_v1",
        "numpy",
        "firebase_admin.firestore",  # firebase_admin itself is fine (Auth needs it, not Firestore)
        "google.cloud.firestore",
    ),
    "predict": (*AUDIO_DECODERS, "onnxruntime"),  # a LiteRT model's predict: one runtime only
    "preprocess": ("av", "ai_edge_litert", "onnxruntime"),  # PyAV only for what soundfile cannot read
    "dead_letter": (*AUDIO_DECODERS, "ai_edge_litert", "onnxruntime", "numpy"),
}
_LOAD = """
import json, sys, functions_framework
functions_framework.create_app({name!r}, {source!r})
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize("name", sorted(NOT_IMPORTED))
def test_a_function_loads_only_what_its_path_needs(name: str) -> None:
    source = str(REPO_ROOT / "functions" / f"{name}.py")
    out = subprocess.run(
        [sys.executable, "-c", _LOAD.format(name=name, source=source)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    loaded = set(json.loads(out.splitlines()[-1]))
    assert "functions_framework" in loaded  # the check sees what the load imported
    assert sorted(set(NOT_IMPORTED[name]) & loaded) == []


def test_a_fork_waits_for_a_prefetch_so_the_child_has_its_result() -> None:
    done = threading.Event()

    def slow_step() -> None:
        time.sleep(0.3)
        done.set()

    startup.prefetch("test step", slow_step)
    pid = os.fork()
    if pid == 0:  # the child: the step finished before the fork copied this process
        os._exit(0 if done.is_set() else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_failed_prefetch_is_logged_and_left_to_the_request(capsys: pytest.CaptureFixture[str]) -> None:
    def failing() -> None:
        raise RuntimeError("store unavailable")

    startup.prefetch("test failing step", failing).join()
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines() if "test failing step" in x]
    assert line["severity"] == "WARNING" and line["error"] == "store unavailable"


def test_a_prefetched_model_file_is_read_from_memory_once(monkeypatch: pytest.MonkeyPatch) -> None:
    downloads: list[str] = []

    def download(uri: str, filename: str) -> bytes:
        downloads.append(filename)
        return (
            b'{"model_file": "model.onnx"}'
            if filename == model.METADATA_FILE
            else f"{uri}/{filename}".encode()
        )

    monkeypatch.setattr(model, "_read_gcs", download)
    model.prefetch("gs://models/cough/1.0.0/")
    assert downloads == [model.METADATA_FILE, "model.onnx"]  # the model file its metadata names
    assert model._read("gs://models/cough/1.0.0", "model.onnx") == b"gs://models/cough/1.0.0/model.onnx"
    assert len(downloads) == 2  # from memory
    model._read("gs://models/cough/1.0.0", "model.onnx")
    assert len(downloads) == 3  # once only: a later load reads the bucket again
    model._read("gs://models/cough/1.0.0", model.METADATA_FILE)  # leave nothing prefetched behind


# What a new results_api instance would otherwise import before its warm-up leaves.
# (google.cloud alone is an empty namespace package; its clients are google.cloud.<name>.)
HEAVY = ("flask", "werkzeug", "functions_framework", "google.auth", "google.cloud.", "grpc", "firebase_admin")


def test_results_api_sends_its_warm_up_before_its_heavy_imports() -> None:
    """functions/results_api.py calls warm_on_start before importing flask and the API, and
    shared.cloud.warmup itself imports none of them, so the warm-up leaves early."""
    source = (REPO_ROOT / "functions" / "results_api.py").read_text()
    lines = {ast.unparse(node): node.lineno for node in ast.parse(source).body}
    assert (
        lines["warm_on_start()"]
        < lines["import flask"]
        < lines["from shared.http.api import framework_error, handle"]
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, shared.cloud.warmup; print(json.dumps(sorted(sys.modules)))",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    loaded = set(json.loads(out))
    assert "shared.cloud.warmup" in loaded
    assert sorted(m for m in loaded if m.startswith(HEAVY)) == []
