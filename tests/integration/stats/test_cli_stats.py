"""`coughcloud stats` against result documents written to the real Firestore emulator."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from coughcloud.cli import main
from shared.cloud import firestore
from shared.config import settings
from shared.names import result_key
from shared.pipeline import results
from tests.pipeline_support import Pipeline

pytestmark = pytest.mark.integration


def write_results(pipeline: Pipeline) -> None:
    collection = firestore.client().collection(settings().RESULTS_COLLECTION)
    now = results.now()
    model = {"name": "cough-classifier", "version": "1.0.0", "sha256": "x"}
    documents = {
        "a": {"status": "done", "label": "dry", "model": model, "timings": {"inference_ms": 2.0}},
        "b": {"status": "done", "label": "wet", "model": model, "timings": {"inference_ms": 4.0}},
        "c": {"status": "failed", "error": {"code": "too_short", "message": "m"}, "timings": {}},
    }
    for name, fields in documents.items():
        key = result_key("uploads", name)  # as the pipeline names them: spread over the shards
        collection.document(key).set(
            {**fields, "shard": results.shard_of(key), "created_at": now, "updated_at": now}
        )
    assert len({results.shard_of(result_key("uploads", name)) for name in documents}) > 1
    old = now - timedelta(minutes=30)
    old_key = result_key("uploads", "old")
    fields = {"status": "failed", "error": {"code": "internal"}, "updated_at": old}
    collection.document(old_key).set({**fields, "shard": results.shard_of(old_key)})


def env_file(tmp_path: Path) -> Path:
    """The test's own target (the same values as the environment, so nothing leaks)."""
    keys = ("GOOGLE_CLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST", "RESULTS_COLLECTION")
    path = tmp_path / "stack.env"
    path.write_text("".join(f"{key}={os.environ[key]}\n" for key in keys))
    return path


def test_stats_reads_the_window_from_firestore_and_plots(
    pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_results(pipeline)
    argv = ["stats", "--minutes", "10", "--format", "json", "--env", str(env_file(tmp_path))]
    assert main([*argv, "--plot", str(tmp_path / "charts")]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["documents"] == 3  # the 30-minute-old failure is outside the window
    assert summary["status"] == {"done": 2, "failed": 1}
    assert summary["errors"] == {"too_short": 1}
    inference = {"count": 2, "p50": 3.0, "p95": 3.9, "p99": 3.98, "max": 4.0}
    assert summary["latency_ms"]["inference_ms"] == inference
    assert summary["labels"] == {"cough-classifier@1.0.0": {"dry": 1, "wet": 1}}
    for name in ("status.png", "latency.png", "labels.png"):
        assert (tmp_path / "charts" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert main(["stats", "--minutes", "60", "--env", str(env_file(tmp_path))]) == 0
    table = capsys.readouterr().out
    assert table.startswith("4 results updated") and "internal" in table


def test_stats_reads_a_shard_in_pages(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    collection = firestore.client().collection(settings().RESULTS_COLLECTION)
    now = results.now()
    keys = [k for k in (result_key("uploads", f"page-{i}") for i in range(200)) if results.shard_of(k) == 3][
        :5
    ]
    for i, key in enumerate(keys):
        collection.document(key).set({"status": "done", "shard": 3, "updated_at": now + timedelta(seconds=i)})
    monkeypatch.setattr(results, "TIME_PAGE", 2)  # five documents: three reads of the shard
    found = [d for d in results.updated_since(now) if d.get("shard") == 3]
    assert len(found) >= 5 and sorted(d["updated_at"] for d in found) == [d["updated_at"] for d in found]
