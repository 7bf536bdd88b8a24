"""training/: the synthetic generator, the COUGHVID-style loader, a tiny end-to-end training run."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from coughcloud.cli import main
from shared.ml.model import load_model
from tests.fixtures.audio_files import encode, random_bytes
from training import synthetic
from training.coughvid import expert_label, load_coughvid
from training.dataset import split_clips

PNG = b"\x89PNG\r\n\x1a\n"
# Keras 3 converting tensors with numpy 2 (not ours to fix).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")


def test_synthetic_data_is_seeded_and_labelled() -> None:
    first, again = synthetic.generate(3, seed=4), synthetic.generate(3, seed=4)
    other = synthetic.generate(3, seed=5)
    assert [c.label for c in first] == list(synthetic.LABELS) * 3
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0].samples, other[0].samples)
    for clip in first:
        assert clip.samples.dtype == np.float32 and clip.rate == synthetic.RATE
        assert 0.2 * synthetic.RATE < clip.samples.size < 3 * synthetic.RATE
        assert 0 < np.max(np.abs(clip.samples)) <= 1.0
    with pytest.raises(ValueError):
        synthetic.make_clip("sneeze", np.random.default_rng(0))


def test_split_is_stratified_and_disjoint() -> None:
    clips = synthetic.generate(5, seed=1)
    train, test = split_clips(clips, 0.2, seed=1)
    assert sorted(c.label for c in test) == sorted(synthetic.LABELS)
    assert {c.source for c in train}.isdisjoint(c.source for c in test)
    assert len(train) + len(test) == len(clips)


@pytest.mark.parametrize(
    ("row", "label"),
    [
        ({"cough_type_1": "dry", "cough_type_2": "dry", "cough_type_3": "wet"}, "dry"),
        ({"cough_type_1": "wet", "cough_type_2": "unknown"}, "wet"),
        ({"cough_type": "Dry"}, "dry"),
        ({"cough_type_1": "dry", "cough_type_2": "wet"}, None),
        ({"cough_type_1": "unknown"}, None),
        ({"cough_type_1": ""}, None),
    ],
)
def test_expert_label_is_the_strict_majority(row: dict, label: str | None) -> None:
    assert expert_label(row) == label


def _clip(label: str, seed: int) -> np.ndarray:
    return synthetic.make_clip(label, np.random.default_rng(seed))


def fake_coughvid(folder: Path, *, with_detection: bool = True) -> Path:
    """A tiny folder laid out like COUGHVID: metadata_compiled.csv + <uuid>.webm/.ogg/.wav."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(3):
        rows.append({"uuid": f"dry{i}", "cough_type_1": "dry", "cough_type_2": "dry", "cough_type_3": "wet"})
        (folder / f"dry{i}.webm").write_bytes(encode(_clip("dry", i), 16_000, "webm_opus"))
        rows.append({"uuid": f"wet{i}", "cough_type_1": "wet"})
        (folder / f"wet{i}.ogg").write_bytes(encode(_clip("wet", 10 + i), 16_000, "ogg_vorbis"))
    rows.append({"uuid": "unknown", "cough_type_1": "unknown", "cough_detected": "0.97"})
    (folder / "unknown.webm").write_bytes(encode(_clip("dry", 20), 16_000, "webm_opus"))
    rows.append({"uuid": "tie", "cough_type_1": "dry", "cough_type_2": "wet"})
    rows.append({"uuid": "no-file", "cough_type_1": "dry"})
    rows.append({"uuid": "corrupt", "cough_type_1": "wet"})
    (folder / "corrupt.webm").write_bytes(random_bytes())
    if with_detection:
        rows.append({"uuid": "speech", "cough_detected": "0.01"})
        (folder / "speech.wav").write_bytes(encode(_clip("not_cough", 30), 16_000, "wav_pcm16"))
    columns = ["uuid", "cough_detected", "cough_type_1", "cough_type_2", "cough_type_3", "cough_type_4"]
    with (folder / "metadata_compiled.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def test_coughvid_loader_reads_labels_and_decodes_with_the_serving_decoder(tmp_path: Path) -> None:
    clips, report = load_coughvid(fake_coughvid(tmp_path / "coughvid"), 16_000)
    by_source = {Path(c.source).stem: c.label for c in clips}
    assert by_source == {
        **{f"dry{i}": "dry" for i in range(3)},
        **{f"wet{i}": "wet" for i in range(3)},
        "speech": "not_cough",
    }
    assert report.rows == 11
    assert dict(report.loaded) == {"dry": 3, "wet": 3, "not_cough": 1}
    assert dict(report.skipped) == {
        "no dry/wet majority": 2,
        "audio file missing": 1,
        "undecodable (unsupported_format)": 1,
    }
    assert all(c.rate == 16_000 and c.samples.dtype == np.float32 for c in clips)


def test_coughvid_loader_needs_a_uuid_column(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("id,cough_type\nx,dry\n")
    with pytest.raises(ValueError, match="uuid"):
        load_coughvid(tmp_path, 16_000)


@pytest.mark.slow
def test_tiny_training_run_gives_a_loadable_model_and_a_report(tmp_path: Path) -> None:
    from training.train import TrainConfig, run

    out = tmp_path / "tiny" / "0.0.1"
    summary = run(TrainConfig(out=out, version="0.0.1", per_class=5, epochs=2, seed=3))
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["version"] == "0.0.1"
    assert metadata["training_data"]["kind"] == "synthetic"
    assert metadata["training_data"]["clips"] == {"dry": 5, "wet": 5, "not_cough": 5}
    assert metadata["metrics"]["litert_keras_max_abs_diff"] <= 1e-4
    assert metadata["metrics"]["clips"] == metadata["training_data"]["held_out_clips"] == 3
    assert len(metadata["metrics"]["confusion_matrix"]["counts"]) == 3
    for kind in ("confusion_matrix", "training_curves"):
        assert Path(summary["report"][kind]).read_bytes().startswith(PNG)
    assert json.loads(Path(summary["report"]["metrics"]).read_text())["history"]["loss"]
    assert (out / "model.keras").is_file()
    model = load_model(str(out))
    assert model.version == "0.0.1"
    assert model.predict(np.zeros((20, 40), dtype=np.float32), model.spec).windows == 1


@pytest.mark.slow
def test_parity_check_catches_a_model_that_disagrees() -> None:
    from shared.ml.features import FeatureSpec
    from training.export import ParityError, check_parity, to_tflite
    from training.net import build_model

    spec = FeatureSpec()
    x = np.random.default_rng(0).standard_normal((8, spec.n_mfcc, spec.window_frames)).astype(np.float32)
    keras_model = build_model(spec, 3, x)
    assert check_parity(keras_model, to_tflite(keras_model), x) <= 1e-4
    other = build_model(spec, 3, x * 3 + 1)
    with pytest.raises(ParityError):
        check_parity(keras_model, to_tflite(other), x)


@pytest.mark.slow
def test_coughcloud_train_on_a_coughvid_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = fake_coughvid(tmp_path / "coughvid", with_detection=False)
    out = tmp_path / "model"
    argv = ["train", "--data", str(data), "--out", str(out), "--epochs", "1", "--version", "r1"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["model"] == str(out)
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["training_data"]["kind"] == "coughvid-style"
    assert metadata["training_data"]["clips"]["dry"] == 3
    assert "not_cough clips are synthetic" in metadata["training_data"]["description"]
    assert load_model(str(out)).version == "r1"


def test_coughcloud_train_refuses_a_missing_folder(tmp_path: Path) -> None:
    assert main(["train", "--data", str(tmp_path / "nowhere")]) == 2
