"""shared.ml.runtimes and the model's output rule: LiteRT or ONNX Runtime chosen by the model
file, input shapes fitted to the model's, logits turned into probabilities, declared
probabilities checked, each runtime imported only when its kind of model is served."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import pytest

from shared.config import BUNDLED_MODEL_DIR, REPO_ROOT
from shared.errors import ModelError
from shared.ml.features import feature_matrix, model_inputs
from shared.ml.model import CoughModel, load_model, softmax
from shared.ml.runtimes import fit_shape
from shared.ml.spec import FeatureSpec
from training.byom_examples import SPEC_B, build_onnx_logmel


@pytest.mark.parametrize(
    ("model_shape", "core", "fitted"),
    [
        ([None, 20, 100], (20, 100), (1, 20, 100)),
        ([1, 20, 100], (20, 100), (1, 20, 100)),
        ([None, 1, 64, 100], (64, 100), (1, 1, 64, 100)),
        ([None, 64, 100, 1], (64, 100), (1, 64, 100, 1)),
        ([None, 40], (40,), (1, 40)),
        ([40], (40,), (40,)),
        ([None, None], (40,), (1, 40)),  # both dynamic: batch first
        ([None, 64, None], (64, 250), (1, 64, 250)),  # a dynamic time axis
        ([None, 20, 100], (100, 20), None),  # the other layout
        ([None, 2, 64, 100], (64, 100), None),  # two channels: not a size-1 axis
        ([None, 39], (40,), None),
    ],
)
def test_fit_shape_finds_the_batch_and_channel_axes(
    model_shape: list[int | None], core: tuple[int, ...], fitted: tuple[int, ...] | None
) -> None:
    assert fit_shape(model_shape, core) == fitted


def onnx_folder(folder: Path, softmax_at_end: bool = False, **changes: Any) -> Path:
    """Model B (ONNX, logits) as a model folder, its metadata changed by `changes`."""
    model = build_onnx_logmel(folder / "model.onnx", seed=1, softmax=softmax_at_end)
    metadata = {
        **SPEC_B,
        "model_file": "model.onnx",
        "features": FeatureSpec.from_dict(SPEC_B["features"]).to_dict(),
        "sha256": hashlib.sha256(model.read_bytes()).hexdigest(),
        **changes,
    }
    (folder / "metadata.json").write_text(json.dumps(metadata))
    return folder


def _clip(seconds: float, seed: int = 0, rate: int = 16000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    return (0.2 * np.sin(2 * np.pi * 300 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def test_an_onnx_model_serves_with_softmax_over_its_logits(tmp_path: Path) -> None:
    model = load_model(str(onnx_folder(tmp_path)))
    assert (model.model_file, model.output, model.input_shape) == ("model.onnx", "logits", (1, 1, 64, 100))
    features = feature_matrix(_clip(2.3), model.spec)
    prediction = model.predict(features, model.spec)
    session = onnxruntime.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    inputs = model_inputs(features, model.spec)
    logits = np.concatenate([session.run(None, {"log_mel": x[None, None]})[0] for x in inputs])
    expected = softmax(logits).mean(axis=0)
    assert prediction.windows == len(inputs) == 4
    np.testing.assert_allclose(list(prediction.probabilities.values()), expected, atol=1e-6)
    assert sum(prediction.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert prediction.label in {*model.labels, "inconclusive"}


def test_a_logits_model_declared_as_probabilities_is_refused_saying_so(tmp_path: Path) -> None:
    model = load_model(str(onnx_folder(tmp_path, output="probabilities")))
    with pytest.raises(
        ModelError, match=r'declares "output": "probabilities", but its outputs are not'
    ) as caught:
        model.check_outputs()
    assert 'must declare "output": "logits"' in caught.value.message
    with pytest.raises(ModelError, match="not probabilities"):  # never served as an answer either
        model.predict(feature_matrix(_clip(1.0), model.spec), model.spec)


def test_a_softmax_onnx_model_declared_as_probabilities_serves(tmp_path: Path) -> None:
    model = load_model(str(onnx_folder(tmp_path, softmax_at_end=True, output="probabilities")))
    assert model.check_outputs() > 0
    logits = load_model(str(onnx_folder(tmp_path / "logits")))
    features = feature_matrix(_clip(1.5), model.spec)
    assert model.predict(features, model.spec).probabilities == pytest.approx(
        logits.predict(features, logits.spec).probabilities, abs=1e-6
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"labels": ["cough", "speech"], "negative_labels": ["speech"]},
            r"gives \[None, 3\]; .* it has 2 labels",
        ),
        (
            {"features": {**SPEC_B["features"], "n_mels": 40}},
            r"takes \[None, 1, 64, 100\] .* give \[40, 100\]",
        ),
        ({"features": {**SPEC_B["features"], "layout": "frames_features"}}, r"give \[100, 64\]"),
        ({"output": "scores"}, r"output 'scores'; expected one of \('probabilities', 'logits'\)"),
        ({"model_file": "model.pt"}, r"model_file 'model.pt'; expected one of"),
    ],
)
def test_a_model_that_does_not_fit_its_metadata_is_refused(
    tmp_path: Path, changes: dict, message: str
) -> None:
    with pytest.raises(ModelError, match=message):
        load_model(str(onnx_folder(tmp_path, **changes)))


def test_a_corrupt_onnx_file_is_a_model_error(tmp_path: Path) -> None:
    folder = onnx_folder(tmp_path)
    garbage = b"not an onnx graph"
    (folder / "model.onnx").write_bytes(garbage)
    metadata = json.loads((folder / "metadata.json").read_text())
    with pytest.raises(ModelError, match=r"model\.onnx at .* cannot be loaded"):
        CoughModel(garbage, {**metadata, "sha256": hashlib.sha256(garbage).hexdigest()}, str(folder))


@pytest.mark.parametrize("kind", ["litert", "onnx"])
def test_concurrent_predictions_agree_with_serial_ones(tmp_path: Path, kind: str) -> None:
    model = load_model(str(BUNDLED_MODEL_DIR if kind == "litert" else onnx_folder(tmp_path)))
    clips = [feature_matrix(_clip(1.0 + i / 3, seed=i), model.spec) for i in range(8)]
    serial = [model.predict(f, model.spec) for f in clips]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda f: model.predict(f, model.spec), clips * 3))
    assert parallel == serial * 3


_IMPORTS = """
import json, sys
from shared.ml.model import load_model
load_model(sys.argv[1])
print(json.dumps([name for name in ("onnxruntime", "ai_edge_litert") if name in sys.modules]))
"""


@pytest.mark.parametrize(("kind", "loaded"), [("litert", ["ai_edge_litert"]), ("onnx", ["onnxruntime"])])
def test_serving_imports_only_the_runtime_of_its_model(tmp_path: Path, kind: str, loaded: list[str]) -> None:
    folder = BUNDLED_MODEL_DIR if kind == "litert" else onnx_folder(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", _IMPORTS, str(folder)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert json.loads(out.splitlines()[-1]) == loaded
