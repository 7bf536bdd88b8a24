"""`coughcloud feedback export DIR` on the emulators: what owners labelled becomes a folder per
label that training/coughvid.py loads with those labels (a model's negative_labels are not
coughs); unlabelled and vanished recordings are left out."""

from __future__ import annotations

import csv
import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from coughcloud.cli import main
from shared.cloud import firestore
from shared.config import BUNDLED_MODEL_DIR
from shared.ml.labels import LabelSet
from shared.pipeline import results
from shared.pipeline.messages import Upload
from shared.registry import feedback
from tests.fixtures.audio_files import sample_file
from tests.pipeline_support import Pipeline
from training.coughvid import load_coughvid

pytestmark = pytest.mark.integration


SHIPPED = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())
# A result's `model` as predict writes it, with its labels; and as results were written before.
CARRIED = {"name": SHIPPED["name"], "version": "1.0.0", **LabelSet.from_metadata(SHIPPED, "shipped").info}
LEGACY = {"name": SHIPPED["name"], "version": "1.0.0"}
OWN = {"name": "sound-classifier", "version": "1.0.0", "labels": ["cough", "speech", "noise"],
       "negative_labels": ["speech", "noise"], "display_names": {}}  # fmt: skip


def result(pipeline: Pipeline, name: str, model: dict[str, Any]) -> Upload:
    event = pipeline.upload(name, sample_file("wav_pcm16", seconds=1.0))
    upload = Upload(pipeline.bucket, name, int(event["generation"]), int(event["size"]), "audio/wav")
    results.claim_upload(upload, "trace")
    probabilities = dict(zip(model.get("labels") or SHIPPED["labels"], (0.9, 0.05, 0.05), strict=True))
    answer = {"label": next(iter(probabilities)), "confidence": 0.9, "probabilities": probabilities,
              "model": model}  # fmt: skip
    results.mark_done(upload, answer, {})
    return upload


def export(tmp_path: Path) -> Path:
    target = tmp_path / "target.env"
    keys = ("GOOGLE_CLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "RESULTS_COLLECTION")
    target.write_text("".join(f"{key}={os.environ[key]}\n" for key in keys))
    out = tmp_path / "dataset"
    assert main(["feedback", "export", str(out), "--env", str(target)]) == 0
    return out


@pytest.mark.parametrize("model", [CARRIED, LEGACY], ids=["labels-on-the-result", "labels-from-the-registry"])
def test_labelled_recordings_become_a_training_set(
    pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str], model: dict[str, Any]
) -> None:
    labels = {"a.wav": "wet", "b.wav": "dry", "c.wav": "not_cough"}
    uploads = {name: result(pipeline, name, model) for name in [*labels, "unlabelled.wav", "gone.wav"]}
    for name, label in labels.items():
        feedback.record(uploads[name].key, label)
    feedback.record(uploads["gone.wav"].key, "wet")
    pipeline.storage_client.bucket(pipeline.bucket).blob("gone.wav").delete()
    before = sorted(b.name for b in pipeline.storage_client.list_blobs(pipeline.bucket))

    out = export(tmp_path)
    printed = capsys.readouterr()
    assert "wrote 3 labelled recordings (dry 1, not_cough 1, wet 1)" in printed.out
    assert "skipped 1: recording gone" in printed.err
    for name, label in labels.items():  # a folder per label
        assert (out / label / f"{uploads[name].key}.wav").is_file()
    clips, _ = load_coughvid(out, 16000)
    by_file = {Path(clip.source).stem: clip.label for clip in clips}
    assert by_file == {uploads[name].key: label for name, label in labels.items()}
    assert sorted(b.name for b in pipeline.storage_client.list_blobs(pipeline.bucket)) == before


def test_another_models_negative_labels_are_not_coughs(pipeline: Pipeline, tmp_path: Path) -> None:
    uploads = {label: result(pipeline, f"{label}.wav", OWN) for label in ("cough", "speech", "noise")}
    for label, upload in uploads.items():
        feedback.record(upload.key, label)
    out = export(tmp_path)
    rows = {row["label"]: row for row in csv.DictReader((out / "metadata_compiled.csv").open())}
    assert {label: (row["negative"], row["cough_detected"]) for label, row in rows.items()} == {
        "cough": ("false", "1.0"),
        "speech": ("true", "0.0"),
        "noise": ("true", "0.0"),
    }
    assert {row["file"] for row in rows.values()} == {f"{label}/{u.key}.wav" for label, u in uploads.items()}
    assert rows["speech"]["model_name"] == "sound-classifier"


def test_export_reads_only_the_time_range_asked_in_pages(
    pipeline: Pipeline, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = {
        name: result(pipeline, name, CARRIED) for name in ("old.wav", "new1.wav", "new2.wav", "new3.wav")
    }
    for upload in uploads.values():
        feedback.record(upload.key, "wet")
    collection = firestore.client().collection(os.environ["RESULTS_COLLECTION"])
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
