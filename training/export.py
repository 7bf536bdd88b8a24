"""Keras → LiteRT, the parity check between them, and the model folder serving loads.

`serving_fields` is how a trained model's metadata.json says what serving must compute and
run: the same form `coughcloud models import` writes (shared/ml/spec.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from shared.ml.model import METADATA_FILE, MODEL_FILE
from shared.ml.runtimes import LiteRT, native_output_silenced
from shared.ml.spec import FeatureSpec

KERAS_FILE = "model.keras"
PARITY_TOLERANCE = 1e-4


class ParityError(RuntimeError):
    """The LiteRT model disagrees with the Keras model: the export is not trustworthy."""


def to_tflite(model: keras.Model) -> bytes:
    """The model as a float32 LiteRT flatbuffer (no quantisation: parity within 1e-4)."""
    # The converter prints its SavedModel paths (Python) and its progress (C++, to the fds).
    with contextlib.redirect_stdout(io.StringIO()), native_output_silenced():
        return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def litert_outputs(tflite: bytes, x: np.ndarray) -> np.ndarray:
    """Run the flatbuffer on each row of `x` with the serving runtime (ai-edge-litert)."""
    runtime = LiteRT(tflite, "the exported model")
    return np.stack([runtime.run(row[None])[0] for row in x.astype(np.float32)])


def check_parity(model: keras.Model, tflite: bytes, x: np.ndarray) -> float:
    """Max |LiteRT − Keras| over `x`; raises ParityError above PARITY_TOLERANCE."""
    expected = np.asarray(model(x.astype(np.float32), training=False))
    difference = float(np.max(np.abs(litert_outputs(tflite, x) - expected)))
    if not difference <= PARITY_TOLERANCE:
        raise ParityError(f"LiteRT and Keras outputs differ by {difference:.3g} (> {PARITY_TOLERANCE:g})")
    return difference


def serving_fields(spec: FeatureSpec) -> dict[str, Any]:
    """The metadata fields serving reads besides labels and threshold: a LiteRT softmax model on `spec`."""
    return {"model_file": MODEL_FILE, "output": "probabilities", "features": spec.to_dict()}


def write_model_folder(out: Path, model: keras.Model, tflite: bytes, metadata: dict[str, Any]) -> Path:
    """Write model.tflite, model.keras and metadata.json into `out`, refusing a wrong sha256."""
    if metadata.get("sha256") != hashlib.sha256(tflite).hexdigest():
        raise ValueError("metadata sha256 does not match the model.tflite being written")
    out.mkdir(parents=True, exist_ok=True)
    (out / MODEL_FILE).write_bytes(tflite)
    model.save(out / KERAS_FILE)
    (out / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    return out
