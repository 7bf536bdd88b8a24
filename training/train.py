"""One training run: data → features → Keras → LiteRT (parity-checked) → model folder + report.

The held-out clips are scored through the serving runtime (`shared.ml.model.CoughModel`
on the exported model.tflite, windows averaged, threshold applied), so the metrics in
metadata.json are what the deployed predict function would achieve on those clips.
"""

from __future__ import annotations

import hashlib
import platform
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tensorflow as tf

from shared.ml.features import FeatureSpec
from shared.ml.model import WINDOW_RULE, CoughModel
from training import synthetic
from training.coughvid import load_coughvid
from training.dataset import clip_features, split_clips, window_dataset
from training.export import KERAS_FILE, check_parity, to_tflite, write_model_folder
from training.net import build_model, fit
from training.report import clip_metrics, write_report

LABELS = synthetic.LABELS


@dataclass(frozen=True)
class TrainConfig:
    out: Path
    data: str = "synthetic"  # "synthetic" or the path of a COUGHVID-style folder
    name: str = "cough-classifier"
    version: str = "1.0.0"
    epochs: int = 25
    seed: int = 0
    per_class: int = 600  # synthetic clips per class
    held_out: float = 0.2
    threshold: float = 0.8
    limit: int | None = None  # at most this many real clips


def load_clips(config: TrainConfig, spec: FeatureSpec) -> tuple[list[synthetic.Clip], dict[str, Any]]:
    """The labelled clips and the description of them that goes into metadata.json."""
    if config.data == "synthetic":
        clips = synthetic.generate(config.per_class, config.seed)
        return clips, {"kind": "synthetic", "description": synthetic.DESCRIPTION, "seed": config.seed}
    clips, report = load_coughvid(Path(config.data), spec.sample_rate, limit=config.limit)
    described: dict[str, Any] = {
        "kind": "coughvid-style",
        "description": f"Expert dry/wet labels from the COUGHVID-style folder {config.data}",
        "rows": report.rows,
        "skipped": dict(report.skipped),
    }
    counts = Counter(clip.label for clip in clips)
    if counts["dry"] == 0 or counts["wet"] == 0:
        raise ValueError(f"{config.data}: need both dry and wet clips, found {dict(counts)}")
    if counts["not_cough"] == 0:
        # COUGHVID's experts label only coughs: borrow the not-a-cough class from the generator.
        n = max(1, (counts["dry"] + counts["wet"]) // 2)
        clips += [clip for clip in synthetic.generate(n, config.seed) if clip.label == "not_cough"]
        described["description"] += "; not_cough clips are synthetic (training/synthetic.py)"
    return clips, described


def run(config: TrainConfig) -> dict[str, Any]:
    """Train, export, check parity, evaluate through the serving runtime; a summary of the run."""
    spec = FeatureSpec()
    clips, data_description = load_clips(config, spec)
    train_clips, test_clips = split_clips(clips, config.held_out, config.seed)
    train_features = clip_features(train_clips, spec)
    test_features = clip_features(test_clips, spec)
    train_x, train_y = window_dataset(train_features, [c.label for c in train_clips], LABELS, spec)
    test_x, test_y = window_dataset(test_features, [c.label for c in test_clips], LABELS, spec)

    model = build_model(spec, len(LABELS), train_x)
    history = fit(model, (train_x, train_y), (test_x, test_y), config.epochs, config.seed)
    tflite = to_tflite(model)
    parity = check_parity(model, tflite, test_x)

    split = {"train_clips": len(train_clips), "held_out_clips": len(test_clips)}
    split["train_windows"] = len(train_x)
    metadata = _metadata(config, spec, clips, {**data_description, **split})
    metadata["sha256"] = hashlib.sha256(tflite).hexdigest()
    served = CoughModel(tflite, metadata, str(config.out))
    predicted = [served.predict(features, spec).label for features in test_features]
    metrics = clip_metrics([c.label for c in test_clips], predicted, LABELS)
    metrics["held_out_window_accuracy"] = round(history["val_accuracy"][-1], 4)
    metrics["litert_keras_max_abs_diff"] = parity
    metadata["metrics"] = {
        "evaluated_on": "held-out clips, through the serving runtime (windows averaged, threshold applied)",
        **metrics,
    }
    write_model_folder(config.out, model, tflite, metadata)
    report = write_report(config.out / "report", metrics, history)
    return {"out": str(config.out), "metrics": metrics, "report": report, "tflite_bytes": len(tflite)}


def _metadata(
    config: TrainConfig,
    spec: FeatureSpec,
    clips: list[synthetic.Clip],
    data_description: dict[str, Any],
) -> dict[str, Any]:
    """metadata.json without the metrics and the sha256, which come after export."""
    return {
        "name": config.name,
        "version": config.version,
        "labels": list(LABELS),
        "threshold": config.threshold,
        "feature_spec": spec.to_dict(),
        "input": {
            "tensor": "mfcc",
            "shape": [1, spec.n_mfcc, spec.window_frames],
            "dtype": "float32",
            "windowing": WINDOW_RULE,
            "aggregation": "mean",
        },
        "training_data": {
            **data_description,
            "clips": dict(Counter(c.label for c in clips)),
        },
        "training": {
            "epochs": config.epochs,
            "seed": config.seed,
            "tensorflow": tf.__version__,
            "python": platform.python_version(),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "keras_model": KERAS_FILE,
        },
    }
