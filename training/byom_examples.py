"""The two "bring your own model" examples, built small with seeded weights, and their SPEC.json.

    .venv/bin/python -m training.byom_examples OUT_DIR   # writes OUT_DIR/{a,b}/ with the model and spec.json

A: a Keras ANN on the mean of 40 MFCCs at 22050 Hz (the classic
   `np.mean(librosa.feature.mfcc(y=y, sr=22050, n_mfcc=40), axis=1)` → Dense → softmax
   dry/wet), saved as `model.keras`.
B: an ONNX graph, built with the `onnx` package as a PyTorch export would give it, on a
   64-band natural-log mel spectrogram (htk scale, no mel norm, reflect padding, 16 kHz)
   in 1-s windows with a channel axis [batch, 1, 64, 100], giving logits for
   cough / speech / noise, saved as `model.onnx`.

Their weights are random (seeded), not trained: they show the import, the checks and
serving, not a useful classifier. Then, for either:

    coughcloud models import OUT_DIR/b/model.onnx --spec OUT_DIR/b/spec.json --out DIR --check CLIP
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

SPEC_A: dict[str, Any] = {
    "name": "dry-wet-ann",
    "version": "1.0.0",
    "labels": ["dry", "wet"],
    "threshold": 0.6,
    "output": "probabilities",
    "features": {"kind": "mfcc", "sample_rate": 22050, "n_mfcc": 40, "pooling": "mean"},
    "training_data": {"kind": "synthetic"},
    "model_card": {"intended_use": "An example of `coughcloud models import`: random weights, no real use."},
}
SPEC_B: dict[str, Any] = {
    "name": "cough-speech-noise",
    "version": "1.0.0",
    "labels": ["cough", "speech", "noise"],
    "negative_labels": ["speech", "noise"],
    "threshold": 0.4,
    "output": "logits",
    "features": {
        "kind": "log_mel",
        "sample_rate": 16000,
        "n_fft": 512,
        "hop_length": 160,
        "win_length": 400,
        "n_mels": 64,
        "mel_scale": "htk",
        "mel_norm": None,
        "pad_mode": "reflect",
        "log": "ln",
        "log_offset": 1e-6,
        "pooling": "windows",
        "window_frames": 100,
        "window_hop_frames": 50,
    },
    "training_data": {"kind": "synthetic"},
    "model_card": {"intended_use": "An example of `coughcloud models import`: random weights, no real use."},
}


def build_keras_mfcc_ann(path: Path, seed: int = 0) -> Path:
    """Model A as a .keras file: mean MFCCs [40] → scaled → Dense(16, tanh) → Dense(2, softmax)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((40,), name="mfcc_mean"),
            keras.layers.Rescaling(1 / 100),  # MFCC means are in the hundreds; keeps tanh unsaturated
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Dense(2, activation="softmax", name="probabilities"),
        ]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def build_onnx_logmel(path: Path, seed: int = 0, softmax: bool = False) -> Path:
    """Model B as a .onnx file: ln-mel [N, 1, 64, 100] → mean over time → Dense(16, relu) → logits [N, 3].

    `softmax=True` ends it with a Softmax (a model that does give probabilities).
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    weights = {
        "w1": rng.normal(0, 0.3, (64, 16)).astype(np.float32),
        "b1": rng.normal(0, 0.1, 16).astype(np.float32),
        "w2": rng.normal(0, 0.5, (16, 3)).astype(np.float32),
        "b2": rng.normal(0, 0.1, 3).astype(np.float32),
        "time_axis": np.array([3], dtype=np.int64),
        "flat": np.array([-1, 64], dtype=np.int64),
        "centre": np.array([-8.0], dtype=np.float32),  # ln-mel values sit around -16..0
    }
    nodes = [
        helper.make_node("ReduceMean", ["log_mel", "time_axis"], ["pooled"], keepdims=0),
        helper.make_node("Reshape", ["pooled", "flat"], ["flat_pooled"]),
        helper.make_node("Sub", ["flat_pooled", "centre"], ["centred"]),
        helper.make_node("MatMul", ["centred", "w1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "w2"], ["o0"]),
        helper.make_node("Add", ["o0", "b2"], ["logits" if not softmax else "o1"]),
    ]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["o1"], ["logits"], axis=-1))
    graph = helper.make_graph(
        nodes,
        "cough_speech_noise",
        [helper.make_tensor_value_info("log_mel", TensorProto.FLOAT, ["batch", 1, 64, 100])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
        [numpy_helper.from_array(value, name) for name, value in weights.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="coughcloud")
    model.ir_version = 9  # what onnxruntime 1.30 reads
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, path)
    return path


def build_examples(out: Path, seed: int = 0) -> dict[str, tuple[Path, Path]]:
    """Both examples under `out`: {"a": (model, spec.json), "b": (model, spec.json)}."""
    built = {}
    for name, build, filename, spec in (
        ("a", build_keras_mfcc_ann, "model.keras", SPEC_A),
        ("b", build_onnx_logmel, "model.onnx", SPEC_B),
    ):
        model = build(out / name / filename, seed)
        spec_file = out / name / "spec.json"
        spec_file.write_text(json.dumps(spec, indent=2) + "\n")
        built[name] = (model, spec_file)
    return built


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for name, (model, spec) in build_examples(Path(sys.argv[1])).items():
        print(f"{name}: {model} {spec}")
