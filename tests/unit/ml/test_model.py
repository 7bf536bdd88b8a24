"""shared.ml.model: loading a model folder, its checks, the window rule and the threshold rule."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from shared.config import BUNDLED_MODEL_DIR
from shared.errors import ModelError, TransientError
from shared.ml import model as model_module
from shared.ml.features import feature_matrix
from shared.ml.model import INCONCLUSIVE, CoughModel, feature_spec, load_model
from training.dataset import FEATURES
from training.synthetic import make_clip

METADATA = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())
TFLITE = (BUNDLED_MODEL_DIR / "model.tflite").read_bytes()


def _features(label: str, seed: int = 5) -> np.ndarray:
    return feature_matrix(make_clip(label, np.random.default_rng(seed)), FEATURES)


def _copy(tmp_path: Path, **metadata_changes: object) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(BUNDLED_MODEL_DIR, folder)
    (folder / "metadata.json").write_text(json.dumps({**METADATA, **metadata_changes}))
    return folder


def test_shipped_model_loads_with_its_metadata() -> None:
    model = load_model(str(BUNDLED_MODEL_DIR))
    assert (model.name, model.version) == ("cough-classifier", "1.5.0")
    assert model.labels == ("dry", "wet", "not_cough")
    assert model.threshold == METADATA["metrics"]["threshold"]["chosen"]
    assert model.spec == FEATURES and METADATA["features"] == FEATURES.to_dict()
    assert model.info == {
        "name": model.name,
        "version": model.version,
        "sha256": METADATA["sha256"],
        "training_data": "mixed",
        "labels": ["dry", "wet", "not_cough"],
        "negative_labels": ["not_cough"],
        "display_names": {"dry": "Dry cough", "wet": "Wet cough", "not_cough": "Not a cough"},
    }
    assert METADATA["training_data"]["kind"] == "mixed"
    assert "synthetic" in METADATA["training_data"]["synthetic"].lower()


def test_shipped_model_card_says_what_it_learned_from_and_what_not() -> None:
    card, data = METADATA["model_card"], METADATA["training_data"]
    assert "not a medical device" in card["intended_use"] and "Real coughs" in card["never_shown"]
    uses = {source["package"]: source["use"] for source in data["real_sources"]}
    assert {"train", "held_out"} == set(uses.values())
    assert set(card["licences"]) == set(uses) and all(card["licences"].values())
    for package, use in uses.items():
        assert (package in card["trained_on"]) == (use == "train")
        assert (package in card["never_shown"]) == (use == "held_out")
    assert set(METADATA["metrics"]["held_out"]["real"]["by_source"]) == {
        p for p, u in uses.items() if u == "held_out"
    }
    assert "training/dev/" in card["evaluated"] and METADATA["metrics"]["dev"]["coughs"]["clips"] == 240


def test_the_previous_version_still_ships_for_rollback() -> None:
    previous = load_model(str(BUNDLED_MODEL_DIR.parent / "1.0.0"))
    assert (previous.version, previous.training_data, previous.spec) == ("1.0.0", "synthetic", FEATURES)


@pytest.mark.parametrize(
    ("kind", "said"),
    [("synthetic", "synthetic"), ("real", "real"), ("mixed", "mixed"), ("coughvid-style", "mixed")],
)
def test_training_data_is_taken_from_the_metadata(tmp_path: Path, kind: str, said: str) -> None:
    folder = _copy(tmp_path, training_data={**METADATA["training_data"], "kind": kind})
    assert load_model(str(folder)).info["training_data"] == said


@pytest.mark.parametrize("training_data", [None, {}, {"kind": "imagined"}, "synthetic"])
def test_a_model_that_cannot_say_what_it_learned_from_is_refused(
    tmp_path: Path, training_data: object
) -> None:
    folder = _copy(tmp_path, training_data=training_data)
    with pytest.raises(ModelError, match=r"training_data\.kind"):
        load_model(str(folder))


def test_building_the_interpreter_prints_nothing_and_restores_the_streams(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    print("before", flush=True)
    load_model(str(_copy(tmp_path)))  # a fresh folder, so a fresh interpreter
    print("after", flush=True)
    out, err = capfd.readouterr()
    assert out == "before\nafter\n"
    assert "XNNPACK" not in err


def test_load_model_is_cached_per_folder(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    first = load_model(str(folder))
    assert load_model(f"{folder}/") is first
    assert load_model(str(folder / ".." / "model")) is first
    assert load_model(str(BUNDLED_MODEL_DIR)) is not first


def test_feature_spec_reads_the_metadata_alone(tmp_path: Path) -> None:
    folder = _copy(tmp_path, features={**METADATA["features"], "n_mfcc": 13})
    (folder / "model.tflite").unlink()
    assert feature_spec(str(folder)).n_mfcc == 13


@pytest.mark.parametrize("label", ["dry", "wet", "not_cough"])
def test_predicts_synthetic_clips_of_each_class(label: str) -> None:
    prediction = load_model(str(BUNDLED_MODEL_DIR)).predict(_features(label), FEATURES)
    assert prediction.label == label
    assert prediction.confidence == max(prediction.probabilities.values())
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_accepts_the_spec_as_a_dict() -> None:
    model = load_model(str(BUNDLED_MODEL_DIR))
    features = _features("wet")
    assert model.predict(features, FEATURES.to_dict()) == model.predict(features, FEATURES)


def test_refuses_a_different_spec_naming_the_fields() -> None:
    model = load_model(str(BUNDLED_MODEL_DIR))
    other = dataclasses.replace(FEATURES, n_mfcc=13, hop_length=256)
    with pytest.raises(ModelError, match=r"hop_length=256 \(model: 160\), n_mfcc=13 \(model: 20\)") as caught:
        model.predict(np.zeros((13, 120), dtype=np.float32), other)
    assert caught.value.code == "model_error"


def test_refuses_an_unreadable_spec_and_bad_matrices() -> None:
    model = load_model(str(BUNDLED_MODEL_DIR))
    with pytest.raises(ModelError, match="unreadable"):
        model.predict(_features("dry"), {"n_mfcc": 20})
    with pytest.raises(ModelError, match="shape"):
        model.predict(np.zeros((13, 50), dtype=np.float32), FEATURES)
    with pytest.raises(ModelError, match="shape"):
        model.predict(np.zeros((20, 0), dtype=np.float32), FEATURES)
    with pytest.raises(ModelError, match="NaN"):
        model.predict(np.full((20, 50), np.nan, dtype=np.float32), FEATURES)


def test_long_clip_probabilities_are_the_mean_over_windows() -> None:
    model = load_model(str(BUNDLED_MODEL_DIR))
    spec = model.spec
    features = np.concatenate([_features("dry", 1), _features("wet", 2), _features("not_cough", 3)], axis=1)
    whole = model.predict(features, spec)
    starts = [*range(0, features.shape[1] - spec.window_frames + 1, spec.window_hop_frames)]
    if starts[-1] != features.shape[1] - spec.window_frames:
        starts.append(features.shape[1] - spec.window_frames)
    per_window = [model.predict(features[:, s : s + spec.window_frames], spec) for s in starts]
    assert whole.windows == len(starts) > 1
    for label in model.labels:
        expected = np.mean([p.probabilities[label] for p in per_window])
        assert whole.probabilities[label] == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("where", "expected"), [("above", INCONCLUSIVE), ("below", "top label")])
def test_threshold_rule(tmp_path: Path, where: str, expected: str) -> None:
    # A dry cough followed by a wet one: the averaged answer is unsure, so below 1.
    features = np.concatenate([_features("dry", 1), _features("wet", 2)], axis=1)
    shipped = load_model(str(BUNDLED_MODEL_DIR)).predict(features, FEATURES)
    assert shipped.confidence < 1.0
    threshold = (shipped.confidence + 1) / 2 if where == "above" else shipped.confidence / 2
    answer = load_model(str(_copy(tmp_path, threshold=threshold))).predict(features, FEATURES)
    top = max(shipped.probabilities, key=shipped.probabilities.__getitem__)
    assert answer.label == (top if expected == "top label" else INCONCLUSIVE)
    assert answer.probabilities == shipped.probabilities
    assert answer.confidence == shipped.confidence


def test_sha256_mismatch_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    damaged = bytearray(TFLITE)
    damaged[len(damaged) // 2] ^= 0xFF
    (folder / "model.tflite").write_bytes(bytes(damaged))
    with pytest.raises(ModelError, match="does not match its metadata"):
        load_model(str(folder))


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("model.tflite", None, "Cannot read the model file"),
        ("metadata.json", "{not json", "not valid JSON"),
        ("metadata.json", "[]", "not a JSON object"),
        ("metadata.json", json.dumps({"name": "x"}), "lacks version"),
        ("metadata.json", json.dumps({**METADATA, "threshold": "high"}), "threshold"),
    ],
)
def test_broken_folders_are_model_errors(tmp_path: Path, filename: str, content: str | None, message: str):
    folder = _copy(tmp_path)
    if content is None:
        (folder / filename).unlink()
    else:
        (folder / filename).write_text(content)
    with pytest.raises(ModelError, match=message):
        load_model(str(folder))


def test_a_model_whose_input_disagrees_with_its_spec_is_refused() -> None:
    metadata = {**METADATA, "features": {**METADATA["features"], "window_frames": 50}}
    with pytest.raises(ModelError, match=r"takes \[None, 20, 100\]"):
        CoughModel(TFLITE, metadata, "memory")


def test_a_corrupt_flatbuffer_is_a_model_error() -> None:
    garbage = b"\x00" * 64
    import hashlib

    with pytest.raises(ModelError, match="cannot be loaded"):
        CoughModel(garbage, {**METADATA, "sha256": hashlib.sha256(garbage).hexdigest()}, "memory")


class _Blob:
    def __init__(self, objects: dict[str, bytes | Exception], name: str) -> None:
        self.objects, self.name = objects, name

    def download_as_bytes(self) -> bytes:
        found = self.objects[self.name]
        if isinstance(found, Exception):
            raise found
        return found


class _Client:
    """Stands in for google.cloud.storage.Client: objects by 'bucket/name'."""

    def __init__(self, objects: dict[str, bytes | Exception]) -> None:
        self.objects = objects

    def bucket(self, bucket: str) -> _Client:
        self.current = bucket
        return self

    def blob(self, name: str) -> _Blob:
        return _Blob(self.objects, f"{self.current}/{name}")


def test_loads_from_a_gs_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    from google.api_core import exceptions

    objects: dict[str, bytes | Exception] = {
        "models/cough-classifier/9.9.9/model.tflite": TFLITE,
        "models/cough-classifier/9.9.9/metadata.json": json.dumps({**METADATA, "version": "9.9.9"}).encode(),
        "models/missing/1/metadata.json": exceptions.NotFound("no such object"),
        "models/flaky/1/metadata.json": exceptions.ServiceUnavailable("try later"),
        "models/denied/1/metadata.json": exceptions.Forbidden("no access"),
    }
    monkeypatch.setattr("shared.cloud.storage.client", lambda: _Client(objects))
    model = load_model("gs://models/cough-classifier/9.9.9/")
    assert model.version == "9.9.9"
    assert model.uri == "gs://models/cough-classifier/9.9.9"
    with pytest.raises(ModelError, match=r"gs://models/missing/1/metadata\.json does not exist"):
        model_module.feature_spec("gs://models/missing/1")
    with pytest.raises(TransientError):
        model_module.feature_spec("gs://models/flaky/1")
    with pytest.raises(exceptions.Forbidden):  # a configuration fault: neither retried nor hidden
        model_module.feature_spec("gs://models/denied/1")
