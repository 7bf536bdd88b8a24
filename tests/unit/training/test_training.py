"""training/: the synthetic generator, the COUGHVID-style loader, a tiny end-to-end training run."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from coughcloud.cli import main
from shared.config import REPO_ROOT
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
def test_tiny_training_run_on_real_negatives_gives_a_loadable_model_and_a_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole pipeline on the small real-sound set: one package trained on, one held out whole
    and never read."""
    from training import train
    from training.sources import SMALL_SOURCES, TRAIN
    from training.train import TrainConfig, run

    read = []

    def load_source(source, rate, seed):
        read.append(source.package)
        return real_load_source(source, rate, seed)

    real_load_source = train.load_source
    monkeypatch.setattr(train, "load_source", load_source)

    out = tmp_path / "tiny" / "0.0.1"
    config = TrainConfig(
        out=out, version="0.0.1", per_class=6, epochs=2, seed=3, sources="small", source_limit=8
    )
    summary = run(config)
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["version"] == "0.0.1"
    data = metadata["training_data"]
    assert data["kind"] == "mixed"
    assert data["clips"] == {"dry": 6, "wet": 6, "not_cough": 6}
    trained = [source.package for source in SMALL_SOURCES if source.use == TRAIN]
    assert read == trained  # the held-out package is never read
    assert {s["package"]: (s["use"], s.get("clips")) for s in data["real_sources"]} == {
        source.package: (source.use, 8 if source.use == TRAIN else None) for source in SMALL_SOURCES
    }
    assert all(s["licence"] for s in data["real_sources"])
    assert data["real_not_cough_clips"] == 8
    assert set(metadata["model_card"]["licences"]) == {source.package for source in SMALL_SOURCES}
    assert "Real coughs" in metadata["model_card"]["never_shown"]

    metrics = metadata["metrics"]
    assert metrics["litert_keras_max_abs_diff"] <= 1e-4
    assert metadata["threshold"] == metrics["threshold"]["chosen"]
    assert len(metrics["threshold"]["validation"]) > 1
    assert "held_out_real" not in metrics and "held_out" not in metrics  # evaluate.py's, later
    assert metrics["synthetic"]["clips"] == data["parts"]["test_synthetic_clips"] == 3
    assert metrics["calibration"]["clips"] == 3
    assert 0.0 <= metrics["calibration"]["ece"] <= 1.0
    for kind in ("confusion_matrix", "reliability", "training_curves"):
        assert Path(summary["report"][kind]).read_bytes().startswith(PNG)
    assert json.loads(Path(summary["report"]["metrics"]).read_text())["history"]["loss"]
    assert (out / "model.keras").is_file()
    model = load_model(str(out))
    assert (model.version, model.training_data) == ("0.0.1", "mixed")
    assert model.predict(np.zeros((20, 40), dtype=np.float32), model.spec).windows == 1


@pytest.mark.slow
def test_coughcloud_train_gives_the_same_model_byte_for_byte_for_the_same_seed(tmp_path: Path) -> None:
    """As a fresh machine would reproduce the shipped model: separate `coughcloud train` processes."""
    quick = ["--sources", "small", "--source-limit", "4", "--per-class", "3", "--epochs", "1"]
    runs = {"a": 1, "b": 1, "c": 2}
    children = {
        name: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "coughcloud",
                "train",
                *quick,
                "--seed",
                str(seed),
                "--out",
                str(tmp_path / name),
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, seed in runs.items()
    }
    try:
        assert all(child.wait(timeout=300) == 0 for child in children.values())
    finally:
        for child in children.values():
            if child.poll() is None:
                child.kill()
                child.wait()
    digest = {name: json.loads((tmp_path / name / "metadata.json").read_text())["sha256"] for name in runs}
    assert digest["a"] == digest["b"] != digest["c"]


@pytest.mark.slow
def test_parity_check_catches_a_model_that_disagrees() -> None:
    from training.dataset import FEATURES
    from training.export import ParityError, check_parity, to_tflite
    from training.net import build_model

    spec = FEATURES
    x = np.random.default_rng(0).standard_normal((8, spec.n_mfcc, spec.window_frames)).astype(np.float32)
    keras_model = build_model(spec, 3, x)
    assert check_parity(keras_model, to_tflite(keras_model), x) <= 1e-4
    other = build_model(spec, 3, x * 3 + 1)
    with pytest.raises(ParityError):
        check_parity(keras_model, to_tflite(other), x)


@pytest.mark.slow
def test_the_convolutions_see_no_fixed_channel_and_masks_act_only_in_training() -> None:
    """A constant added to a coefficient over the window (a gain, a tilt or colour of the
    spectrum) leaves what the convolutions see as it was, and reaches the answer only through
    the window mean's side branch; the masks hide frames and coefficients in training only."""
    import keras

    from training.dataset import FEATURES
    from training.net import build_model, seed_everything

    rng = np.random.default_rng(2)
    x = (rng.standard_normal((8, FEATURES.n_mfcc, FEATURES.window_frames)) * 3 + 1).astype(np.float32)
    seed_everything(0)
    model = build_model(FEATURES, 3, x)
    channel = (rng.standard_normal((1, FEATURES.n_mfcc, 1)) * 10).astype(np.float32)
    seen = keras.Model(model.inputs, model.get_layer("window_mean_removed").output)
    np.testing.assert_allclose(np.asarray(seen(x + channel)), np.asarray(seen(x)), atol=1e-4)
    moved = x.copy()  # a change within the window does reach them
    moved[:, :, :50] += channel
    assert np.max(np.abs(np.asarray(seen(moved)) - np.asarray(seen(x)))) > 1e-1
    colour = keras.Model(model.inputs, model.get_layer("colour").output)
    assert colour.output.shape[-1] == 16

    masked = keras.Model(model.inputs, model.get_layer("masks").output)
    assert np.count_nonzero(np.asarray(masked(x, training=True)) == 0) > 0
    assert np.count_nonzero(np.asarray(masked(x, training=False)) == 0) == 0


@pytest.mark.slow
def test_members_average_into_one_model_that_exports_with_parity() -> None:
    import keras

    from training.dataset import FEATURES
    from training.export import check_parity, to_tflite
    from training.net import average, build_model

    spec = FEATURES
    x = np.random.default_rng(1).standard_normal((8, spec.n_mfcc, spec.window_frames)).astype(np.float32)
    members = []
    for k in range(3):
        keras.utils.set_random_seed(k)
        members.append(build_model(spec, 3, x, name=f"member_{k}"))
    ensemble = average(members)
    each = np.stack([np.asarray(member(x, training=False)) for member in members])
    assert not np.allclose(each[0], each[1])  # different initial weights, different answers
    np.testing.assert_allclose(np.asarray(ensemble(x, training=False)), each.mean(axis=0), atol=1e-6)
    assert check_parity(ensemble, to_tflite(ensemble), x) <= 1e-4


@pytest.mark.slow
def test_coughcloud_train_with_members_records_how_to_train_it_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model"
    argv = ["train", "--out", str(out), "--epochs", "1", "--per-class", "3", "--sources", "small"]
    argv += ["--source-limit", "4", "--members", "2"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["litert_keras_max_abs_diff"] <= 1e-4
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["training"]["members"] == 2
    assert metadata["training"]["command"].endswith("--members 2")
    model = load_model(str(out))
    assert model.predict(np.zeros((20, 100), dtype=np.float32), model.spec).windows == 1


@pytest.mark.slow
def test_coughcloud_train_on_a_coughvid_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = fake_coughvid(tmp_path / "coughvid", with_detection=False)
    out = tmp_path / "model"
    argv = ["train", "--data", str(data), "--out", str(out), "--epochs", "1", "--version", "r1"]
    argv += ["--sources", "small", "--source-limit", "4"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["model"] == str(out)
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["training_data"]["kind"] == "coughvid-style"
    assert metadata["training_data"]["clips"]["dry"] == 3
    assert "not_cough clips from training/synthetic.py" in metadata["training_data"]["synthetic"]
    assert metadata["training_data"]["real_not_cough_clips"] == 4
    assert load_model(str(out)).version == "r1"


def test_coughcloud_train_refuses_a_missing_folder(tmp_path: Path) -> None:
    assert main(["train", "--data", str(tmp_path / "nowhere")]) == 2


def test_coughcloud_train_refuses_a_network_size_that_is_not_three_widths(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for bad in ("64,96", "64,0,128", "wide"):
        with pytest.raises(SystemExit) as exit_info:
            main(["train", "--filters", bad])
        assert exit_info.value.code == 2
    assert "--filters" in capsys.readouterr().err
