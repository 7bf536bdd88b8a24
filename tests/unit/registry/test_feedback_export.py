"""`coughcloud feedback export DIR` on the emulators: what owners labelled becomes a folder that
training/coughvid.py loads with those labels; unlabelled and vanished recordings are left out."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from coughcloud.cli import main
from shared.pipeline import results
from shared.pipeline.messages import Upload
from shared.registry import feedback
from tests.fixtures.audio_files import sample_file
from tests.unit.pipeline_support import Pipeline
from training.coughvid import load_coughvid

pytestmark = pytest.mark.integration


def result(pipeline: Pipeline, name: str) -> Upload:
    event = pipeline.upload(name, sample_file("wav_pcm16", seconds=1.0))
    upload = Upload(pipeline.bucket, name, int(event["generation"]), int(event["size"]), "audio/wav")
    results.claim_upload(upload, "trace")
    probabilities = {"dry": 0.9, "wet": 0.05, "not_cough": 0.05}
    answer = {
        "label": "dry",
        "confidence": 0.9,
        "probabilities": probabilities,
        "model": {"version": "1.0.0"},
    }
    results.mark_done(upload, answer, {})
    return upload


def test_labelled_recordings_become_a_training_set(
    pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    labels = {"a.wav": "wet", "b.wav": "dry", "c.wav": "not_cough"}
    uploads = {name: result(pipeline, name) for name in [*labels, "unlabelled.wav", "gone.wav"]}
    for name, label in labels.items():
        feedback.record(uploads[name].key, label)
    feedback.record(uploads["gone.wav"].key, "wet")
    pipeline.storage_client.bucket(pipeline.bucket).blob("gone.wav").delete()
    before = sorted(b.name for b in pipeline.storage_client.list_blobs(pipeline.bucket))

    target = tmp_path / "target.env"
    keys = ("GOOGLE_CLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "RESULTS_COLLECTION")
    target.write_text("".join(f"{key}={os.environ[key]}\n" for key in keys))
    out = tmp_path / "dataset"
    assert main(["feedback", "export", str(out), "--env", str(target)]) == 0

    printed = capsys.readouterr()
    assert "wrote 3 labelled recordings (dry 1, not_cough 1, wet 1)" in printed.out
    assert "skipped 1: recording gone" in printed.err
    clips, _ = load_coughvid(out, 16000)
    by_file = {Path(clip.source).stem: clip.label for clip in clips}
    assert by_file == {uploads[name].key: label for name, label in labels.items()}
    assert sorted(b.name for b in pipeline.storage_client.list_blobs(pipeline.bucket)) == before


def test_export_reads_only_the_time_range_asked_in_pages(
    pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = {name: result(pipeline, name) for name in ("old.wav", "new1.wav", "new2.wav", "new3.wav")}
    for upload in uploads.values():
        feedback.record(upload.key, "wet")
    collection = results.db().collection(os.environ["RESULTS_COLLECTION"])
    long_ago = results.now() - timedelta(days=10)
    collection.document(uploads["old.wav"].key).update({"feedback_at": long_ago, "feedback.at": long_ago})
    monkeypatch.setattr(results, "TIME_PAGE", 2)  # three labels in range: two reads

    target = tmp_path / "target.env"
    keys = ("GOOGLE_CLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "RESULTS_COLLECTION")
    target.write_text("".join(f"{key}={os.environ[key]}\n" for key in keys))
    assert main(["feedback", "export", str(tmp_path / "recent"), "--days", "7", "--env", str(target)]) == 0
    assert "wrote 3 labelled recordings (wet 3)" in capsys.readouterr().out
    assert main(["feedback", "export", str(tmp_path / "all"), "--env", str(target)]) == 0
    assert "wrote 4 labelled recordings (wet 4)" in capsys.readouterr().out
