"""`coughcloud models import` on the two examples of issue 18, built here with seeded weights:
A, a Keras ANN on the mean of 40 MFCCs at 22050 Hz (softmax dry/wet); B, an ONNX graph on a
64-band natural-log mel spectrogram (htk, no mel norm, reflect padding, 16 kHz) giving logits
for cough/speech/noise. Each is imported with --check on the example clips, then classifies
them as its source framework does on librosa's features (within 2e-3 per probability)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from coughcloud.cli import main
from shared.config import BUNDLED_MODEL_DIR, REPO_ROOT
from shared.ml.audio import decode_audio
from shared.ml.classify import classify_bytes
from shared.ml.features import model_inputs
from shared.ml.model import load_model, softmax
from shared.registry.artifacts import check_model
from shared.registry.pointer import Refusal
from training.byom_examples import build_examples
from training.reference import librosa_features

pytestmark = pytest.mark.slow  # TensorFlow's import and a LiteRT conversion
CLIPS = sorted(str(p) for p in (REPO_ROOT / "examples").glob("*.wav"))


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    return build_examples(tmp_path_factory.mktemp("examples"))


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def source_probabilities(name: str, model_path: Path, clip: str, metadata: dict[str, Any]) -> np.ndarray:
    """The source framework on librosa's features, written here without serving's runtime."""
    model = load_model(str(model_path.parent.parent / f"{name}-out"))
    samples = decode_audio(Path(clip).read_bytes(), model.spec.sample_rate).samples
    inputs = model_inputs(librosa_features(samples, model.spec).astype(np.float32), model.spec)
    if name == "a":
        import keras

        outputs = np.asarray(keras.models.load_model(model_path)(inputs))
    else:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        outputs = np.concatenate([session.run(None, {"log_mel": x[None, None]})[0] for x in inputs])
    return np.mean(softmax(outputs) if metadata["output"] == "logits" else outputs, axis=0)


@pytest.mark.parametrize("name", ["a", "b"])
def test_import_with_check_then_serving_matches_the_source_framework(
    examples: dict[str, tuple[Path, Path]], name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model_path, spec_path = examples[name]
    out = model_path.parent.parent / f"{name}-out"
    code, printed, err = run(
        ["models", "import", str(model_path), "--spec", str(spec_path), "--out", str(out), "--check", *CLIPS],
        capsys,
    )
    assert code == 0, err
    assert printed.count("--check ") == len(CLIPS) and "largest differences" in printed
    metadata = json.loads((out / "metadata.json").read_text())
    spec = json.loads(spec_path.read_text())
    expected_file = {"a": "model.tflite", "b": "model.onnx"}[name]
    assert sorted(p.name for p in out.iterdir()) == sorted([expected_file, "metadata.json"])
    assert metadata["labels"] == spec["labels"] and metadata["model_file"] == expected_file
    assert {k: metadata["features"][k] for k in spec["features"]} == spec["features"]
    model = load_model(str(out))
    for clip in CLIPS:
        result = classify_bytes(Path(clip).read_bytes(), model)
        assert result["status"] == "done" and result["label"] in {*spec["labels"], "inconclusive"}
        served = np.array([result["probabilities"][label] for label in spec["labels"]])
        expected = source_probabilities(name, model_path, clip, metadata)
        assert np.max(np.abs(served - expected)) <= 2e-3, clip


def test_a_logits_model_declared_as_probabilities_is_refused(
    examples: dict[str, tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_path, spec_path = examples["b"]
    wrong = tmp_path / "spec.json"
    wrong.write_text(json.dumps({**json.loads(spec_path.read_text()), "output": "probabilities"}))
    code, _, err = run(
        ["models", "import", str(model_path), "--spec", str(wrong), "--out", str(tmp_path / "out")], capsys
    )
    assert code == 1
    assert 'declares "output": "probabilities", but its outputs are not probabilities' in err
    assert 'must declare "output": "logits"' in err
    assert not (tmp_path / "out").exists()


def test_push_repeats_the_output_checks(examples: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    """A folder written by hand with a logits model declared as probabilities cannot be pushed."""
    out = tmp_path / "out"
    model_path, spec_path = examples["b"]
    assert main(["models", "import", str(model_path), "--spec", str(spec_path), "--out", str(out)]) == 0
    metadata = json.loads((out / "metadata.json").read_text())
    model = (out / "model.onnx").read_bytes()
    check_model(model, metadata, str(out))
    with pytest.raises(Refusal, match='declares "output": "probabilities"'):
        check_model(model, {**metadata, "output": "probabilities"}, str(out))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"labels": ["dry", "wet", "not_cough"]}, r"gives \[None, 2\]; .* it has 3 labels"),
        (
            {"features": {"kind": "mfcc", "n_mfcc": 13, "pooling": "mean"}},
            r"takes \[None, 40\] .* give \[13\]",
        ),
        (
            {"features": {"kind": "mfcc", "n_mfcc": 40, "pooling": "mean", "nmels": 64}},
            r"unknown fields \['nmels'\]",
        ),
        ({"thresold": 0.5}, r"unknown fields \['thresold'\]"),
        ({"labels": []}, "labels must be a non-empty list"),
    ],
)
def test_a_spec_that_does_not_fit_the_model_is_refused(
    examples: dict[str, tuple[Path, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict,
    message: str,
) -> None:
    model_path, spec_path = examples["a"]
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps({**json.loads(spec_path.read_text()), **changes}))
    argv = ["models", "import", str(model_path), "--spec", str(spec_file), "--out", str(tmp_path / "o")]
    code, _, err = run(argv, capsys)
    assert code == 1 and re.search(message, err), err
    assert not (tmp_path / "o").exists()


def test_a_tflite_model_imports_as_it_is(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped 1.1.0 as a user would bring a .tflite: its own spec, checked on the clips."""
    shipped = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())
    keys = ("name", "version", "labels", "threshold", "output", "features", "training_data")
    (tmp_path / "spec.json").write_text(json.dumps({k: shipped[k] for k in keys}))
    source = tmp_path / "cough.tflite"
    shutil.copy(BUNDLED_MODEL_DIR / "model.tflite", source)
    argv = [
        "models",
        "import",
        str(source),
        "--spec",
        str(tmp_path / "spec.json"),
        "--out",
        str(tmp_path / "o"),
    ]
    code, printed, err = run([*argv, "--check", *CLIPS], capsys)
    assert code == 0, err
    assert json.loads((tmp_path / "o" / "metadata.json").read_text())["sha256"] == shipped["sha256"]
    assert "probabilities max |served − LiteRT|" in printed


def test_the_help_states_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    for action, phrases in (
        ("import", ("SPEC.json holds name, version, labels, threshold and features", "librosa", "--check")),
        ("push", ("model.tflite", "model.onnx", '"output": "logits"')),
    ):
        with pytest.raises(SystemExit):
            main(["models", action, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        for phrase in phrases:
            assert phrase in text, (action, phrase)


@pytest.mark.parametrize("kind", ["h5", "saved_model"])
def test_older_keras_formats_import_too(
    examples: dict[str, tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """Example A saved as HDF5 and as a TensorFlow SavedModel folder: converted and checked the same way."""
    import keras

    model_path, spec_path = examples["a"]
    model = keras.models.load_model(model_path)
    if kind == "h5":
        source = tmp_path / "model.h5"
        model.save(source)
    else:
        source = tmp_path / "saved"
        model.export(source, format="tf_saved_model", verbose=False)
    argv = ["models", "import", str(source), "--spec", str(spec_path), "--out", str(tmp_path / "o")]
    code, printed, err = run([*argv, "--check", *CLIPS], capsys)
    assert code == 0, err
    assert "largest differences" in printed
    assert load_model(str(tmp_path / "o")).model_file == "model.tflite"


def test_check_fails_when_serving_drifts_from_librosa(
    examples: dict[str, tuple[Path, Path]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A serving feature computation 0.01 off librosa's (a bug --check is there to catch)."""
    from shared.ml import features

    exact = features.feature_matrix
    monkeypatch.setattr(features, "feature_matrix", lambda samples, spec: exact(samples, spec) + 0.01)
    model_path, spec_path = examples["b"]
    argv = ["models", "import", str(model_path), "--spec", str(spec_path), "--out", str(tmp_path / "o")]
    code, printed, err = run([*argv, "--check", CLIPS[0]], capsys)
    assert code == 1
    assert "largest differences: features 1.00e-02 (tolerance 0.001)" in printed
    assert "serving does not reproduce the model on the --check clips" in err
    assert not (tmp_path / "o").exists()


def test_unusable_sources_and_clips_are_refused_by_name(
    examples: dict[str, tuple[Path, Path]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_path, spec_path = examples["b"]
    silent = tmp_path / "silent.wav"
    import soundfile

    soundfile.write(silent, np.zeros(16000, dtype=np.float32), 16000)
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a graph")
    cases = [
        ([str(model_path), "--check", str(silent)], "--check .*silent.wav: The recording is silent"),
        ([str(model_path), "--check", str(tmp_path / "missing.wav")], "--check .*missing.wav: No such file"),
        ([str(broken)], r"model\.onnx at .*broken\.onnx cannot be loaded"),
        ([str(tmp_path / "model.pt")], r"no such model file"),
    ]
    for args, message in cases:
        out = tmp_path / "o"
        code, _, err = run(["models", "import", *args, "--spec", str(spec_path), "--out", str(out)], capsys)
        assert code == 1 and re.search(message, err), (args, err)
        assert not out.exists()
