"""`coughcloud models import`: a trained model and its SPEC.json → a checked model folder serving loads.

The source: a Keras model (`.keras`, `.h5`, or a SavedModel folder, converted to LiteRT
with TensorFlow's converter), a `.tflite` or an `.onnx` (copied as they are). The folder
gets the model file, a complete metadata.json (SPEC.json's fields, the resolved feature
spec, the model file's name and sha256) and nothing else.

Before writing anything it checks what serving will do: the model takes the input the spec
gives and gives one value per label; on probe clips its outputs are finite and, when
`"output": "probabilities"` is declared, probability vectors (a logits model so declared
is refused, saying so). With `--check CLIP ...`, on each clip decoded by serving's decoder:
the features twice, serving's numpy against librosa, and the probabilities twice, the
served path (serving's features → the served runtime) against the source framework
(Keras, ONNX Runtime or LiteRT) on librosa's features. The largest differences are printed;
above tolerance nothing is written and the command fails.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.errors import CoughCloudError
from shared.ml.model import METADATA_FILE, CoughModel, softmax
from shared.ml.runtimes import native_output_silenced, open_runtime
from shared.ml.spec import FeatureSpec
from shared.registry.artifacts import read_json_object
from shared.registry.pointer import Refusal

# SPEC.json: what it must and may hold (the labels' fields are read by serving, shared/ml/).
REQUIRED_FIELDS = ("name", "version", "labels", "threshold", "features")
OPTIONAL_FIELDS = ("output", "negative_labels", "display_names", "model_card", "training_data")
KERAS_SUFFIXES = (".keras", ".h5")
CHECK_TOLERANCE = 2e-3  # per probability, served path against the source framework


@dataclass(frozen=True)
class Source:
    """A model as imported: the bytes serving runs, their file name, and the source framework."""

    model: bytes
    model_file: str
    framework: str  # "Keras", "LiteRT", "ONNX Runtime", "TensorFlow SavedModel"
    run: Callable[[np.ndarray], np.ndarray]  # the source framework on one input (batch of 1)


@dataclass(frozen=True)
class ClipCheck:
    clip: str
    feature_difference: float
    probability_difference: float
    label: str


def read_spec(path: Path) -> dict[str, Any]:
    """SPEC.json, its fields checked by name (the feature spec with it); Refusal saying what is wrong."""
    spec = read_json_object(path)
    missing = [field for field in REQUIRED_FIELDS if field not in spec]
    unknown = sorted(set(spec) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if missing or unknown:
        raise Refusal(
            f"{path}: missing fields {missing}, unknown fields {unknown} "
            f"(it holds {', '.join(REQUIRED_FIELDS)} and may hold {', '.join(OPTIONAL_FIELDS)})."
        )
    labels = spec["labels"]
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
        raise Refusal(f"{path}: labels must be a non-empty list of names.")
    if len(set(labels)) != len(labels):
        raise Refusal(f"{path}: labels must be distinct.")
    try:
        FeatureSpec.from_dict(spec["features"])
    except ValueError as error:
        raise Refusal(f"{path}: features: {error}") from None
    return spec


def load_source(src: Path) -> Source:
    """The model at `src` as serving will run it, and its source framework."""
    src = Path(src)
    if src.is_dir() and (src / "saved_model.pb").is_file():
        return _saved_model(src)
    if not src.is_file():
        raise Refusal(f"{src}: no such model file (a .keras, .h5, .tflite, .onnx or a SavedModel folder).")
    if src.suffix in KERAS_SUFFIXES:
        return _keras(src)
    if src.suffix in (".tflite", ".onnx"):  # the source framework is the runtime serving uses
        model_file, framework = (
            f"model{src.suffix}",
            {".tflite": "LiteRT", ".onnx": "ONNX Runtime"}[src.suffix],
        )
        try:
            runtime = open_runtime(model_file, src.read_bytes(), str(src))
        except CoughCloudError as error:
            raise Refusal(error.message) from None
        return Source(src.read_bytes(), model_file, framework, runtime.run)
    raise Refusal(
        f"{src}: {src.suffix or 'no suffix'}; expected .keras, .h5, .tflite, .onnx or a SavedModel."
    )


def _keras(src: Path) -> Source:
    import keras

    from training.export import to_tflite

    try:
        model = keras.models.load_model(src, compile=False)
    except Exception as error:  # keras raises many types for a file it cannot read
        raise Refusal(f"{src}: Keras cannot load it: {error}") from None
    tflite = _converted(src, lambda: to_tflite(model))
    return Source(tflite, "model.tflite", "Keras", lambda x: np.asarray(model(x, training=False)))


def _converted(src: Path, convert: Callable[[], bytes]) -> bytes:
    try:
        return convert()
    except Exception as error:  # the converter raises TensorFlow's and its own error types
        raise Refusal(f"{src}: TensorFlow cannot convert it to LiteRT: {error}") from None


def _saved_model(src: Path) -> Source:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(src))
    if "serving_default" not in loaded.signatures:
        raise Refusal(f"{src}: the SavedModel has no serving_default signature to convert and run.")
    signature = loaded.signatures["serving_default"]

    def convert() -> bytes:
        with native_output_silenced():  # the converter's progress
            return tf.lite.TFLiteConverter.from_saved_model(str(src)).convert()

    tflite = _converted(src, convert)

    def run(x: np.ndarray) -> np.ndarray:
        (output,) = signature(tf.constant(x)).values()
        return output.numpy()

    return Source(tflite, "model.tflite", "TensorFlow SavedModel", run)


def build_metadata(spec: dict[str, Any], source: Source, src: Path) -> dict[str, Any]:
    """metadata.json: SPEC.json's fields, the resolved features, the model file and its sha256."""
    features = FeatureSpec.from_dict(spec["features"])
    metadata = {
        "name": spec["name"],
        "version": spec["version"],
        "labels": spec["labels"],
        **{field: spec[field] for field in ("negative_labels", "display_names") if field in spec},
        "threshold": spec["threshold"],
        "model_file": source.model_file,
        "output": spec.get("output", "probabilities"),
        "features": features.to_dict(),
        "training_data": spec.get("training_data", {"kind": "real"}),
        "imported": {"source": src.name, "framework": source.framework},
        "sha256": hashlib.sha256(source.model).hexdigest(),
    }
    if "model_card" in spec:
        metadata["model_card"] = spec["model_card"]
    return metadata


def check_clip(model: CoughModel, source: Source, clip: Path) -> ClipCheck:
    """One --check clip: serving's features against librosa's, and the served probabilities
    against the source framework's on librosa's features (both on the same decoded samples)."""
    from shared.ml.audio import decode_audio
    from shared.ml.checks import check_audio
    from shared.ml.features import feature_matrix, model_inputs
    from training.reference import feature_difference, librosa_features

    spec = model.spec
    try:
        audio = decode_audio(clip.read_bytes(), spec.sample_rate)
        check_audio(audio)  # a clip serving would refuse proves nothing
        ours = feature_matrix(audio.samples, spec)
        served = model.predict(ours, spec)
    except OSError as error:
        raise Refusal(f"--check {clip}: {error.strerror or error}") from None
    except CoughCloudError as error:
        raise Refusal(f"--check {clip}: {error.message}") from None
    theirs = librosa_features(audio.samples, spec)
    inputs = model_inputs(theirs.astype(np.float32), spec)
    outputs = np.concatenate([np.reshape(source.run(x.reshape(model.input_shape)), (1, -1)) for x in inputs])
    reference = np.mean(softmax(outputs) if model.output == "logits" else outputs, axis=0)
    difference = max(
        abs(served.probabilities[label] - float(p)) for label, p in zip(model.labels, reference, strict=True)
    )
    return ClipCheck(clip.name, feature_difference(ours, theirs, spec), difference, served.label)


def import_model(
    src: Path, spec_path: Path, out: Path, clips: list[Path], say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Convert or copy, check, and (only when every check passes) write `out`; its metadata.

    Refusal when a check fails: nothing is written then.
    """
    from training.reference import feature_tolerance

    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise Refusal(f"{out} exists and is not empty; give a new folder.")
    spec = read_spec(spec_path)
    source = load_source(Path(src))
    metadata = build_metadata(spec, source, Path(src))
    try:
        model = CoughModel(source.model, metadata, str(out))
        probes = model.check_outputs()
    except CoughCloudError as error:
        raise Refusal(error.message) from None
    say(f"{source.framework} model {Path(src).name} → {source.model_file}")
    say(
        f"outputs: {model.output} for {len(model.labels)} labels ({', '.join(model.labels)}), "
        f"checked on {probes} probe inputs; input {list(model.input_shape)}"
    )
    checks = [check_clip(model, source, Path(clip)) for clip in clips]
    tolerance = feature_tolerance(model.spec)
    for check in checks:
        say(
            f"--check {check.clip}: features max |numpy − librosa| {check.feature_difference:.2e}; "
            f"probabilities max |served − {source.framework}| {check.probability_difference:.2e}; "
            f"served label {check.label}"
        )
    if checks:
        worst_features = max(c.feature_difference for c in checks)
        worst_probabilities = max(c.probability_difference for c in checks)
        say(
            f"largest differences: features {worst_features:.2e} (tolerance {tolerance:g}), "
            f"probabilities {worst_probabilities:.2e} (tolerance {CHECK_TOLERANCE:g})"
        )
        if worst_features > tolerance or worst_probabilities > CHECK_TOLERANCE:
            raise Refusal(
                "serving does not reproduce the model on the --check clips (above); nothing written."
            )
    _write(out, source, metadata)
    return metadata


def _write(out: Path, source: Source, metadata: dict[str, Any]) -> None:
    """The folder, written whole or not at all (a temporary folder beside it, then renamed)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    (staging / source.model_file).write_bytes(source.model)
    (staging / METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    if out.exists():
        out.rmdir()
    shutil.move(str(staging), str(out))
