"""A model folder loaded once per process, and its predictions.

A model artifact is a folder `<name>/<version>/` holding the model file (`model.tflite`
for LiteRT or `model.onnx` for ONNX Runtime, named by metadata.json's `model_file`) and
`metadata.json` (labels, threshold, `output`, the feature spec `features`, training data,
metrics, sha256 of the model file). `load_model(uri)` reads it from a local path or a
`gs://bucket/prefix` (google-cloud-storage, which honours STORAGE_EMULATOR_HOST),
checks the sha256, and keeps it for the life of the process.

The runtimes are imported only when a model is loaded, so importing this module stays
cheap (the preprocess function only needs `feature_spec`, which reads metadata.json alone).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.config import settings
from shared.errors import ModelError, TransientError
from shared.ml.features import feature_matrix, input_shape, model_inputs
from shared.ml.labels import INCONCLUSIVE, LabelSet
from shared.ml.runtimes import MODEL_FILES, fit_shape, open_runtime
from shared.ml.spec import FeatureSpec
from shared.pipeline.messages import TRAINING_DATA

MODEL_FILE = "model.tflite"  # when metadata.json names no `model_file` (every model before ONNX)
METADATA_FILE = "metadata.json"
# What the model's output vector is: softmax probabilities, or logits serving turns into them.
OUTPUTS = ("probabilities", "logits")
PROBABILITY_TOLERANCE = 1e-3  # how far from a probability vector a declared one may be (float32)
_REQUIRED_KEYS = ("name", "version", "labels", "threshold", "sha256")
# What results say the model learned from (one of TRAINING_DATA), by metadata.json's
# training_data.kind: a coughvid-style model learned real coughs against synthetic
# non-coughs, so it is mixed.
TRAINING_DATA_KINDS = {**{kind: kind for kind in TRAINING_DATA}, "coughvid-style": "mixed"}


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one clip; `label` is `inconclusive` below the threshold."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    windows: int  # how many model inputs were averaged (1 unless pooling is `windows`)


class CoughModel:
    """A loaded model: metadata plus its runtime (LiteRT or ONNX Runtime, both thread-safe)."""

    def __init__(self, model: bytes, metadata: dict[str, Any], uri: str) -> None:
        missing = [key for key in _REQUIRED_KEYS if key not in metadata]
        if "features" not in metadata and "feature_spec" not in metadata:
            missing.append("features")
        if missing:
            raise ModelError(f"The model's metadata.json at {uri} lacks {', '.join(missing)}.")
        self.model_file = model_file(metadata, uri)
        digest = hashlib.sha256(model).hexdigest()
        if digest != metadata["sha256"]:
            raise ModelError(
                f"{self.model_file} at {uri} does not match its metadata: sha256 {digest}, "
                f"expected {metadata['sha256']}."
            )
        self.uri = uri
        self.metadata = metadata
        self.name = str(metadata["name"])
        self.version = str(metadata["version"])
        self.sha256 = digest
        self.label_set = LabelSet.from_metadata(metadata, uri)
        self.labels = self.label_set.labels
        try:
            self.threshold = float(metadata["threshold"])
        except (TypeError, ValueError):
            raise ModelError(f"metadata.json at {uri} has an unreadable threshold.") from None
        self.spec = spec_of(metadata, uri)
        self.output = metadata.get("output", "probabilities")
        if self.output not in OUTPUTS:
            raise ModelError(f"metadata.json at {uri} has output {self.output!r}; expected one of {OUTPUTS}.")
        self.training_data = _training_data(metadata, uri)
        self._runtime = open_runtime(self.model_file, model, uri)
        takes, gives = self._runtime.input_shape, self._runtime.output_shape
        self.input_shape = fit_shape(takes, input_shape(self.spec))
        if self.input_shape is None or math.prod(n or 1 for n in gives) != len(self.labels):
            raise ModelError(
                f"The model at {uri} takes {takes} and gives {gives}; its metadata's features give "
                f"{list(input_shape(self.spec))} and it has {len(self.labels)} labels."
            )

    @property
    def info(self) -> dict[str, Any]:
        """How results name the model: {name, version, sha256, training_data} and its labels."""
        return {
            "name": self.name,
            "version": self.version,
            "sha256": self.sha256,
            "training_data": self.training_data,
            **self.label_set.info,
        }

    def predict(self, features: np.ndarray, spec: FeatureSpec | dict[str, Any]) -> Prediction:
        """Classify one clip's feature matrix [n_features, frames], computed with `spec`."""
        spec = spec if isinstance(spec, FeatureSpec) else _parsed(spec, "the features")
        differing = self.spec.differences(spec)
        if differing:
            detail = ", ".join(
                f"{name}={getattr(spec, name)!r} (model: {getattr(self.spec, name)!r})" for name in differing
            )
            raise ModelError(
                f"The features were computed with a different feature spec than model "
                f"{self.name} {self.version} expects: {detail}."
            )
        matrix = np.asarray(features, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != spec.n_features or matrix.shape[1] == 0:
            shape = list(matrix.shape)
            raise ModelError(f"The features have shape {shape}; expected [{spec.n_features}, frames].")
        if not np.isfinite(matrix).all():
            raise ModelError("The features contain NaN or infinite values.")
        try:
            inputs = model_inputs(matrix, spec)
        except ValueError as error:
            raise ModelError(f"The features do not fit model {self.name} {self.version}: {error}") from None
        probabilities = np.mean(self.probabilities(self.outputs(inputs)), axis=0)
        top = int(np.argmax(probabilities))
        confidence = float(probabilities[top])
        return Prediction(
            label=self.labels[top] if confidence >= self.threshold else INCONCLUSIVE,
            confidence=confidence,
            probabilities={label: float(p) for label, p in zip(self.labels, probabilities, strict=True)},
            windows=len(inputs),
        )

    def outputs(self, inputs: np.ndarray) -> np.ndarray:
        """The model's raw outputs [n_inputs, n_labels] for `model_inputs`, one runtime call each."""
        outputs = np.empty((len(inputs), len(self.labels)), dtype=np.float32)
        for i, one in enumerate(inputs):
            outputs[i] = self._runtime.run(one.reshape(self.input_shape)).reshape(-1)
        return outputs

    def check_outputs(self) -> int:
        """Run the model on probe clips (features of its own spec); ModelError unless every output
        is finite and, when it declares probabilities, a probability vector. How many it ran."""
        inputs = np.concatenate(
            [model_inputs(feature_matrix(clip, self.spec), self.spec) for clip in _probes(self.spec)]
        )
        outputs = self.outputs(inputs)
        if not np.isfinite(outputs).all():
            raise ModelError(f"Model {self.name} {self.version} gives NaN or infinite outputs.")
        self.probabilities(outputs)
        return len(inputs)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """Raw outputs as probabilities: softmax of logits; declared probabilities checked, never
        passed on when they are not (a confidence of 139 is a ModelError, not an answer)."""
        if self.output == "logits":
            return softmax(outputs)
        problem = not_probabilities(outputs)
        if problem:
            raise ModelError(
                f'Model {self.name} {self.version} declares "output": "probabilities", but {problem}; '
                'a model that gives logits must declare "output": "logits".'
            )
        return outputs


def _probes(spec: FeatureSpec) -> list[np.ndarray]:
    """Varied clips at the spec's rate (seeded): noise at three levels, a low and a high tone, a
    sweep, clicks. A model declared as giving probabilities must give them on all of these."""
    rate = spec.sample_rate
    rng = np.random.default_rng(0)
    t = np.arange(2 * rate) / rate
    clicks = np.zeros(rate)
    clicks[:: rate // 7] = 0.9
    clips = [level * rng.standard_normal(rate) for level in (0.003, 0.05, 0.5)]
    clips += [0.4 * np.sin(2 * np.pi * f * t) for f in (150.0, 0.3 * rate)]
    clips += [0.3 * np.sin(2 * np.pi * (50 + 0.1 * rate * t) * t), clicks]
    return [np.clip(clip, -1, 1).astype(np.float32) for clip in clips]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64, as float32."""
    shifted = np.exp(logits.astype(np.float64) - np.max(logits, axis=-1, keepdims=True))
    return (shifted / np.sum(shifted, axis=-1, keepdims=True)).astype(np.float32)


def not_probabilities(outputs: np.ndarray) -> str | None:
    """Why rows of `outputs` are not probability vectors (in [0, 1], summing to 1), or None."""
    sums = np.sum(outputs.astype(np.float64), axis=-1)
    low, high = float(np.min(outputs)), float(np.max(outputs))
    worst = float(sums[np.argmax(np.abs(sums - 1.0))])
    tolerance = PROBABILITY_TOLERANCE
    if (
        np.isfinite(outputs).all()
        and low >= -tolerance
        and high <= 1 + tolerance
        and abs(worst - 1) <= tolerance
    ):
        return None
    return f"its outputs are not probabilities: they sum to {worst:.4g} (min {low:.4g}, max {high:.4g})"


def model_file(metadata: dict[str, Any], uri: str) -> str:
    """The model file a version folder holds: metadata's `model_file`, model.tflite by default."""
    name = metadata.get("model_file", MODEL_FILE)
    if name not in MODEL_FILES:
        raise ModelError(f"metadata.json at {uri} has model_file {name!r}; expected one of {MODEL_FILES}.")
    return name


def spec_of(metadata: dict[str, Any], uri: str) -> FeatureSpec:
    """The feature spec of a model's metadata: `features`, or a pre-ONNX `feature_spec`."""
    data = metadata["features"] if "features" in metadata else metadata.get("feature_spec")
    return _parsed(data, uri)


def _parsed(data: Any, where: str) -> FeatureSpec:
    if not isinstance(data, dict):
        raise ModelError(f"The feature spec of {where} is not an object.")
    try:
        return FeatureSpec.from_dict(data)
    except (TypeError, ValueError) as error:
        raise ModelError(f"The feature spec of {where} is unreadable: {error}") from None


def _training_data(metadata: dict[str, Any], uri: str) -> str:
    """synthetic | real | mixed, from metadata.json's training_data.kind; anything else is refused."""
    described = metadata.get("training_data")
    kind = described.get("kind") if isinstance(described, dict) else None
    if kind not in TRAINING_DATA_KINDS:
        known = ", ".join(TRAINING_DATA_KINDS)
        raise ModelError(f"metadata.json at {uri} has training_data.kind {kind!r}; expected one of {known}.")
    return TRAINING_DATA_KINDS[kind]


_load_lock = threading.Lock()
_prefetched: dict[tuple[str, str], bytes] = {}  # by prefetch, for the next read of each file


def load_model(uri: str) -> CoughModel:
    """The model folder at `uri` (local path or gs://bucket/prefix), loaded once per process."""
    with _load_lock:
        return _load_model_cached(_normalise(uri))


@functools.cache
def _load_model_cached(uri: str) -> CoughModel:
    metadata = _metadata(uri)
    return CoughModel(_read(uri, model_file(metadata, uri)), metadata, uri)


def feature_spec(uri: str | None = None) -> FeatureSpec:
    """The feature spec of the model at `uri` (default MODEL_URI), from its metadata.json alone."""
    return _feature_spec_cached(_normalise(uri or settings().MODEL_URI))


@functools.cache
def _feature_spec_cached(uri: str) -> FeatureSpec:
    return spec_of(_metadata(uri), uri)


def _normalise(uri: str) -> str:
    return uri.rstrip("/") if uri.startswith("gs://") else str(Path(uri).expanduser().resolve())


def _metadata(uri: str) -> dict[str, Any]:
    return _parse_metadata(_read(uri, METADATA_FILE), uri)


def _parse_metadata(data: bytes, uri: str) -> dict[str, Any]:
    try:
        metadata = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"metadata.json at {uri} is not valid JSON: {error}") from None
    if not isinstance(metadata, dict):
        raise ModelError(f"metadata.json at {uri} is not a JSON object.")
    return metadata


def _read(uri: str, filename: str) -> bytes:
    if uri.startswith("gs://"):
        prefetched = _prefetched.pop((uri, filename), None)
        return _read_gcs(uri, filename) if prefetched is None else prefetched
    path = Path(uri) / filename
    try:
        return path.read_bytes()
    except OSError as error:
        raise ModelError(f"Cannot read the model file {path}: {error.strerror or error}") from None


def prefetch(uri: str) -> None:
    """Download a gs:// model's files now (a new instance overlaps this with its start-up); the
    next load_model(uri) takes them from memory, once. A local folder is read when loaded."""
    uri = _normalise(uri)
    if not uri.startswith("gs://"):
        return
    metadata = _prefetched[uri, METADATA_FILE] = _read_gcs(uri, METADATA_FILE)
    try:
        name = model_file(_parse_metadata(metadata, uri), uri)
    except ModelError:
        return  # load_model reports it
    _prefetched[uri, name] = _read_gcs(uri, name)


def _read_gcs(uri: str, filename: str) -> bytes:
    """An object's bytes; a missing one is a ModelError, an unavailable service a TransientError."""
    from google.api_core import exceptions

    from shared.cloud.storage import client
    from shared.faults import is_transient

    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    name = f"{prefix}/{filename}" if prefix else filename
    try:
        return client().bucket(bucket).blob(name).download_as_bytes()
    except exceptions.NotFound:
        raise ModelError(f"The model file gs://{bucket}/{name} does not exist.") from None
    except Exception as error:
        if is_transient(error):
            raise TransientError(f"Reading gs://{bucket}/{name} failed: {error}") from error
        raise
