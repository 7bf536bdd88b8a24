"""The model runtime: a LiteRT model folder loaded once per process, and its predictions.

A model artifact is a folder `<name>/<version>/` holding `model.tflite` and
`metadata.json` (labels, threshold, feature spec, input window rule, training data,
metrics, sha256 of model.tflite). `load_model(uri)` reads it from a local path or a
`gs://bucket/prefix` (google-cloud-storage, which honours STORAGE_EMULATOR_HOST),
checks the sha256, and keeps it for the life of the process.

LiteRT is imported only when a model is loaded, so importing this module stays cheap (the
preprocess function only needs `feature_spec`, which reads metadata.json alone).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.config import settings
from shared.errors import ModelError, TransientError
from shared.ml.features import FeatureSpec, feature_windows
from shared.ml.labels import INCONCLUSIVE, LabelSet
from shared.pipeline.messages import TRAINING_DATA

MODEL_FILE = "model.tflite"
METADATA_FILE = "metadata.json"
# The windowing rule every model in this format follows (see shared.ml.features.feature_windows).
WINDOW_RULE = (
    "MFCC frames are cut into windows of window_frames frames every window_hop_frames frames "
    "(the last window aligned to the clip's end); a clip shorter than one window is repeated "
    "to fill it; the model's softmax probabilities are averaged over the windows."
)
_REQUIRED_KEYS = ("name", "version", "labels", "threshold", "feature_spec", "sha256")
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
    windows: int


class CoughModel:
    """A loaded model: metadata plus a LiteRT interpreter (not thread-safe, so guarded by a lock)."""

    def __init__(self, tflite: bytes, metadata: dict[str, Any], uri: str) -> None:
        missing = [key for key in _REQUIRED_KEYS if key not in metadata]
        if missing:
            raise ModelError(f"The model's metadata.json at {uri} lacks {', '.join(missing)}.")
        digest = hashlib.sha256(tflite).hexdigest()
        if digest != metadata["sha256"]:
            raise ModelError(
                f"model.tflite at {uri} does not match its metadata: sha256 {digest}, "
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
        self.spec = _spec_from(metadata["feature_spec"], uri)
        self.training_data = _training_data(metadata, uri)
        self._lock = threading.Lock()
        self._interpreter = _interpreter(tflite, uri)
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        takes, gives = self._input["shape"].tolist(), self._output["shape"].tolist()
        expected_input = [1, self.spec.n_mfcc, self.spec.window_frames]
        if takes != expected_input or gives[-1] != len(self.labels):
            raise ModelError(
                f"The model at {uri} takes {takes} and gives {gives}; its metadata says "
                f"{expected_input} and {len(self.labels)} labels."
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
        """Classify one clip's MFCC matrix [n_mfcc, frames], computed with `spec`."""
        spec = spec if isinstance(spec, FeatureSpec) else _spec_from(spec, "the features")
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
        if matrix.ndim != 2 or matrix.shape[0] != spec.n_mfcc or matrix.shape[1] == 0:
            shape = list(matrix.shape)
            raise ModelError(f"The features have shape {shape}; expected [{spec.n_mfcc}, frames].")
        if not np.isfinite(matrix).all():
            raise ModelError("The features contain NaN or infinite values.")
        windows = feature_windows(matrix, spec)
        probabilities = np.mean(self._run(windows), axis=0)
        top = int(np.argmax(probabilities))
        confidence = float(probabilities[top])
        return Prediction(
            label=self.labels[top] if confidence >= self.threshold else INCONCLUSIVE,
            confidence=confidence,
            probabilities={label: float(p) for label, p in zip(self.labels, probabilities, strict=True)},
            windows=len(windows),
        )

    def _run(self, windows: np.ndarray) -> np.ndarray:
        """Softmax outputs [n_windows, n_labels], one interpreter call per window."""
        outputs = np.empty((len(windows), len(self.labels)), dtype=np.float32)
        with self._lock:
            for i, window in enumerate(windows):
                self._interpreter.set_tensor(self._input["index"], window[None])
                self._interpreter.invoke()
                outputs[i] = self._interpreter.get_tensor(self._output["index"])[0]
        return outputs


def _spec_from(data: Any, where: str) -> FeatureSpec:
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


@contextmanager
def _native_output_silenced() -> Iterator[None]:
    """Point fds 1 and 2 at /dev/null, restoring them after.

    LiteRT's C++ prints "Created TensorFlow Lite XNNPACK delegate for CPU." straight to the
    process's stderr when an interpreter is built; Python's sys.stdout/sys.stderr never see
    it, so only the file descriptors can keep it out of the CLI's output and the logs.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _interpreter(tflite: bytes, uri: str) -> Any:
    from ai_edge_litert.interpreter import Interpreter

    try:
        with _native_output_silenced():
            interpreter = Interpreter(model_content=tflite, num_threads=1)
            interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        raise ModelError(f"model.tflite at {uri} cannot be loaded: {error}") from None
    return interpreter


_load_lock = threading.Lock()
_prefetched: dict[tuple[str, str], bytes] = {}  # by prefetch, for the next read of each file


def load_model(uri: str) -> CoughModel:
    """The model folder at `uri` (local path or gs://bucket/prefix), loaded once per process."""
    with _load_lock:
        return _load_model_cached(_normalise(uri))


@functools.cache
def _load_model_cached(uri: str) -> CoughModel:
    return CoughModel(_read(uri, MODEL_FILE), _metadata(uri), uri)


def feature_spec(uri: str | None = None) -> FeatureSpec:
    """The feature spec of the model at `uri` (default MODEL_URI), from its metadata.json alone."""
    return _feature_spec_cached(_normalise(uri or settings().MODEL_URI))


@functools.cache
def _feature_spec_cached(uri: str) -> FeatureSpec:
    return _spec_from(_metadata(uri).get("feature_spec"), uri)


def _normalise(uri: str) -> str:
    return uri.rstrip("/") if uri.startswith("gs://") else str(Path(uri).expanduser().resolve())


def _metadata(uri: str) -> dict[str, Any]:
    try:
        metadata = json.loads(_read(uri, METADATA_FILE))
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
    if uri.startswith("gs://"):
        for filename in (METADATA_FILE, MODEL_FILE):
            _prefetched[uri, filename] = _read_gcs(uri, filename)


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
