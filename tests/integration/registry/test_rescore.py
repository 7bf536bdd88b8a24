"""`coughcloud rescore` on the emulators: bounded, resumable, paced, and it never touches the
uploads bucket nor publishes anything; `models compare` reads what it recorded."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from coughcloud.cli import main
from shared.cloud import firestore
from shared.pipeline import results
from shared.pipeline.messages import Upload
from shared.registry import rescore as rescore_module
from shared.registry.artifacts import Registry
from shared.registry.compare import compare
from tests.fixtures.audio_files import sample_file
from tests.pipeline_support import Pipeline
from tests.registry_support import add_version

pytestmark = pytest.mark.integration


def stored_result(pipeline: Pipeline, name: str, status: str = "done") -> Upload:
    event = pipeline.upload(name, sample_file("wav_pcm16", seconds=1.0, seed=len(name)))
    upload = Upload(pipeline.bucket, name, int(event["generation"]), int(event["size"]), "audio/wav")
    results.claim_upload(upload, "trace")
    if status == "done":
        model = {"name": "cough-classifier", "version": "1.0.0"}
        probabilities = {"dry": 0.9, "wet": 0.05, "not_cough": 0.05}
        answer = {"label": "dry", "confidence": 0.9, "model": model, "probabilities": probabilities}
        results.mark_done(upload, answer, {"inference_ms": 0.5})
    else:
        results.mark_failed(upload.key, upload.generation, "too_short", "short", fresh=upload)
    return upload


@pytest.fixture
def target(pipeline: Pipeline, registry: Registry, tmp_path: Path) -> Path:
    add_version(registry, tmp_path, "2.0.0")
    keys = ("GOOGLE_CLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "RESULTS_COLLECTION",
            "UPLOAD_BUCKET", "MODEL_URI", "MODELS_COLLECTION")  # fmt: skip
    path = tmp_path / "target.env"
    path.write_text("".join(f"{key}={os.environ[key]}\n" for key in keys))
    return path


def rescore(target: Path, checkpoint: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    argv = ["rescore", "--model", "2.0.0", "--prefix", "r/", "--rate", "1000", "--page-size", "2"]
    assert main([*argv, "--checkpoint", str(checkpoint), "--env", str(target), *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_bounded_resumable_run_that_never_touches_the_pipeline(
    target: Path, pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scored = [stored_result(pipeline, f"r/{i}.wav") for i in range(5)]
    failed = stored_result(pipeline, "r/failed.wav", status="failed")
    other = stored_result(pipeline, "other/x.wav")
    pipeline.messages("results")  # drain what mark_done/mark_failed announced
    objects = {b.name: b.generation for b in pipeline.storage_client.list_blobs(pipeline.bucket)}
    updated = {u.key: results.get(u.key)["updated_at"] for u in [*scored, failed, other]}
    checkpoint = tmp_path / "checkpoint.json"

    first = rescore(target, checkpoint, capsys, "--limit", "2")
    assert (first["scored"], first["after"], first["finished"]) == (2, "r/1.wav", False)
    assert [("2.0.0" in (results.get(u.key).get("scores") or {})) for u in scored] == [True] * 2 + [False] * 3

    second = rescore(target, checkpoint, capsys, "--limit", "100")  # goes on from the checkpoint
    assert (second["scored"], second["scored_in_total"], second["finished"]) == (3, 5, True)
    assert second["skipped"] == {"not done (failed)": 1}
    assert rescore(target, checkpoint, capsys)["scored"] == 0  # nothing new
    again = rescore(target, checkpoint, capsys, "--restart")
    assert again["scored"] == 0 and again["skipped"]["already scored by this version"] == 5

    for upload in scored:
        document = results.get(upload.key)
        score = document["scores"]["2.0.0"]
        assert score["model"]["version"] == "2.0.0" and score["label"] in score["probabilities"]
        assert document["updated_at"] == updated[upload.key]  # re-scoring is not an update of the result
    assert results.get(other.key)["scores"] == {}  # outside the prefix
    assert {b.name: b.generation for b in pipeline.storage_client.list_blobs(pipeline.bucket)} == objects
    assert pipeline.messages("features") == [] and pipeline.messages("results") == []

    documents = [results.get(u.key) for u in [*scored, failed, other]]
    comparison = compare(documents, "1.0.0", "2.0.0")
    assert comparison["paired"] == 5
    assert comparison["versions"]["2.0.0"]["sources"] == {"rescore": 5}
    assert comparison["versions"]["1.0.0"]["sources"] == {"served": 6}


def test_an_unknown_version_is_refused(target: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rescore", "--model", "7.7.7", "--env", str(target)]) == 1
    assert "has no version '7.7.7'" in capsys.readouterr().err


def test_compare_finds_results_re_scored_long_after_they_were_answered(
    target: Path, pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = stored_result(pipeline, "r/old.wav")
    firestore.client().collection(os.environ["RESULTS_COLLECTION"]).document(old.key).update(
        {"updated_at": results.now() - timedelta(days=30)}
    )
    rescore(target, tmp_path / "checkpoint.json", capsys)
    argv = ["models", "compare", "1.0.0", "2.0.0", "--minutes", "5", "--format", "json", "--env", str(target)]
    assert main([*argv, "--plot", str(tmp_path / "charts")]) == 0
    comparison = json.loads(capsys.readouterr().out)
    assert comparison["paired"] == 1 and sum(map(sum, comparison["matrix"])) == 1
    assert (tmp_path / "charts" / "compare-1.0.0-2.0.0.png").read_bytes()[:4] == b"\x89PNG"


def test_a_result_erased_while_it_is_scored_stays_erased(
    target: Path, pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    upload = stored_result(pipeline, "r/erased.wav")
    score = rescore_module._score

    def erase_then_score(model: Any, document: dict[str, Any]) -> dict[str, Any]:
        scored = score(model, document)
        results.erase(upload.key)  # its owner erased it meanwhile
        return scored

    monkeypatch.setattr(rescore_module, "_score", erase_then_score)
    summary = rescore(target, tmp_path / "checkpoint.json", capsys)
    assert summary["scored"] == 0
    assert summary["skipped"] == {"recording gone (erased or replaced)": 1}
    assert results.get(upload.key) is None
