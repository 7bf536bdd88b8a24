"""One training run: data → features → Keras → LiteRT (parity-checked) → model folder + report.

The data: synthetic dry/wet/not-a-cough clips (training/recipes.py's randomized family, or
training/synthetic.py's caricatures that 1.0.0 and 1.1.0 learned from, or a COUGHVID-style
folder), plus real not-a-cough recordings from the Debian packages of training/sources.py,
which are also mixed under the synthetic clips (training/augment.py; with the recipes, every
clip also goes through a randomized room, microphone and codec). Three disjoint parts:

- train: what the network fits;
- validation: clips of the same kinds and of the TRAINING sources, held back from the
  fit; the only data the threshold is chosen on;
- test: synthetic clips held back from both.

Training never reads the HELD-OUT sources (nor the development set's, training/dev/): they
are heard only by `python -m training.evaluate`, once per released model. Test clips are
scored through the serving runtime (`shared.ml.model.CoughModel` on the exported
model.tflite, windows averaged, threshold applied), so the metrics in metadata.json are
what the deployed predict function would give on those clips.
"""

from __future__ import annotations

import hashlib
import platform
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from shared.ml.model import CoughModel
from shared.ml.spec import FeatureSpec
from training import GENERATOR_NAMES, recipes, synthetic
from training.augment import augment
from training.coughvid import load_coughvid
from training.dataset import FEATURES, clip_features, split_clips, window_dataset
from training.evaluate import SYNTHETIC_ACCURACY_MIN, calibration, choose_threshold, label_at
from training.export import KERAS_FILE, check_parity, serving_fields, to_tflite, write_model_folder
from training.model_card import model_card
from training.net import FILTERS, MODEL_NAME, average, build_model, fit, seed_everything
from training.real_sounds import load_source
from training.report import clip_metrics, write_report
from training.sources import SOURCE_SETS, TRAIN, Source, ensure_installed, package_version

LABELS = synthetic.LABELS
# metadata.json's negative_labels and display_names (shared/ml/labels.py) for this recipe's labels.
NEGATIVE_LABELS = ("not_cough",)
DISPLAY_NAMES = {"dry": "Dry cough", "wet": "Wet cough", "not_cough": "Not a cough"}
GENERATORS = dict(zip(GENERATOR_NAMES, (recipes, synthetic), strict=True))


@dataclass(frozen=True)
class TrainConfig:
    out: Path
    data: str = "recipes"  # "recipes", "synthetic" (1.0.0, 1.1.0) or a COUGHVID-style folder
    sources: str = "full"  # which real not-a-cough packages: a key of training.sources.SOURCE_SETS
    name: str = "cough-classifier"
    version: str = "1.5.0"
    epochs: int = 25
    seed: int = 0
    per_class: int = 600  # synthetic clips per class
    held_out: float = 0.2  # share of the synthetic (or COUGHVID) clips kept for the test
    validation: float = 0.15  # share of the rest, and of the training sources' clips, for validation
    threshold: float | None = None  # None: chosen on the validation clips
    limit: int | None = None  # at most this many real cough clips (COUGHVID-style data)
    source_limit: int | None = None  # at most this many clips per real source (quick runs)
    filters: tuple[int, ...] = FILTERS  # the network's size (training/net.py)
    members: int = 1  # networks trained from different initial weights, averaged into one model


@dataclass(frozen=True)
class Parts:
    train: list[synthetic.Clip]
    validation: list[synthetic.Clip]  # base clips (synthetic or COUGHVID) of the validation part
    validation_real: list[synthetic.Clip]  # training sources' clips of the validation part
    test: list[synthetic.Clip]  # base clips of the test part


def load_clips(config: TrainConfig, spec: FeatureSpec) -> tuple[list[synthetic.Clip], dict[str, Any]]:
    """The labelled base clips (synthetic or COUGHVID-style) and their description for metadata.json."""
    if config.data in GENERATORS:
        generator = GENERATORS[config.data]
        clips = generator.generate(config.per_class, config.seed)
        return clips, {"synthetic": generator.DESCRIPTION, "seed": config.seed}
    clips, report = load_coughvid(Path(config.data), spec.sample_rate, limit=config.limit)
    described: dict[str, Any] = {
        "kind": "coughvid-style",
        "coughvid": f"Expert dry/wet labels from the COUGHVID-style folder {config.data}",
        "rows": report.rows,
        "skipped": dict(report.skipped),
    }
    counts = Counter(clip.label for clip in clips)
    if counts["dry"] == 0 or counts["wet"] == 0:
        raise ValueError(f"{config.data}: need both dry and wet clips, found {dict(counts)}")
    if counts["not_cough"] == 0:
        # COUGHVID's experts label only coughs: borrow synthetic non-coughs besides the real ones.
        n = max(1, (counts["dry"] + counts["wet"]) // 2)
        clips += [clip for clip in synthetic.generate(n, config.seed) if clip.label == "not_cough"]
        described["synthetic"] = "not_cough clips from training/synthetic.py besides the real ones"
    return clips, described


def real_clips(
    sources: tuple[Source, ...], config: TrainConfig, rate: int
) -> dict[Source, list[synthetic.Clip]]:
    """Each TRAINING source's clips (packages installed first when missing); the others are not read."""
    trained = tuple(source for source in sources if source.use == TRAIN)
    ensure_installed(trained)
    loaded = {}
    for source in trained:
        clips = load_source(source, rate, config.seed)
        loaded[source] = clips[: config.source_limit] if config.source_limit else clips
    return loaded


def make_parts(
    config: TrainConfig, base: list[synthetic.Clip], real: dict[Source, list[synthetic.Clip]]
) -> Parts:
    rest, test = split_clips(base, config.held_out, config.seed)
    fit_base, validation = split_clips(rest, config.validation, config.seed)
    trained = [clip for clips in real.values() for clip in clips]
    fit_real, validation_real = split_clips(trained, config.validation, config.seed)

    def vary(clips: list[synthetic.Clip], seed: int) -> list[synthetic.Clip]:
        if config.data != "recipes":
            return augment(clips, fit_real, seed)
        chained = recipes.room_and_microphone(clips, seed)
        return recipes.codec(augment(chained, fit_real, seed), seed)

    # Backgrounds come from the fitted recordings only. Real validation clips are scored as recorded.
    return Parts(
        train=vary(fit_base + fit_real, config.seed),
        validation=vary(validation, config.seed + 1),
        validation_real=validation_real,
        test=vary(test, config.seed + 2),
    )


def run(config: TrainConfig) -> dict[str, Any]:
    """Train, export, check parity, choose the threshold, evaluate through the serving runtime."""
    spec = FEATURES
    sources = SOURCE_SETS[config.sources]
    base, base_description = load_clips(config, spec)
    real = real_clips(sources, config, spec.sample_rate)
    parts = make_parts(config, base, real)
    features = {name: clip_features(getattr(parts, name), spec) for name in Parts.__dataclass_fields__}
    train_x, train_y = window_dataset(features["train"], [c.label for c in parts.train], LABELS, spec)
    validation = parts.validation + parts.validation_real
    val_x, val_y = window_dataset(
        features["validation"] + features["validation_real"], [c.label for c in validation], LABELS, spec
    )

    model, history = train_members(config, spec, (train_x, train_y), (val_x, val_y))
    tflite = to_tflite(model)
    parity = check_parity(model, tflite, val_x)

    metadata = _metadata(config, spec, base, base_description, sources, real, parts)
    metadata["sha256"] = hashlib.sha256(tflite).hexdigest()
    served = CoughModel(tflite, {**metadata, "threshold": 0.0}, str(config.out))

    def probabilities(name: str) -> np.ndarray:
        return np.array(
            [[served.predict(f, spec).probabilities[label] for label in LABELS] for f in features[name]]
        )

    threshold = choose_threshold(
        [c.label for c in parts.validation],
        probabilities("validation"),
        probabilities("validation_real"),
        LABELS,
    )
    if config.threshold is not None:
        threshold = {
            **threshold,
            "chosen": config.threshold,
            "how": f"set by the --threshold option; the validation rule chose {threshold['chosen']}",
        }
    metadata["threshold"] = threshold["chosen"]
    metrics = _test_metrics(parts, probabilities("test"), metadata["threshold"])
    metrics["threshold"] = threshold
    metrics["validation_window_accuracy"] = round(history["val_accuracy"][-1], 4)
    metrics["litert_keras_max_abs_diff"] = parity
    metadata["metrics"] = {
        "evaluated_on": "test clips, through the serving runtime (windows averaged, threshold applied): "
        "synthetic clips held back from training and validation. The held-out figures come later, "
        "once, from python -m training.evaluate (metrics.held_out)",
        **metrics,
    }
    write_model_folder(config.out, model, tflite, metadata)
    report = write_report(config.out / "report", metrics, history)
    return {"out": str(config.out), "metrics": metrics, "report": report, "tflite_bytes": len(tflite)}


def train_members(
    config: TrainConfig,
    spec: FeatureSpec,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
) -> tuple[keras.Model, dict[str, list[float]]]:
    """`config.members` networks, member k seeded with seed + k, averaged into one model when
    more than one; the history is the members' mean, epoch by epoch."""
    members, histories = [], []
    for k in range(config.members):
        seed_everything(config.seed + k)
        name = MODEL_NAME if config.members == 1 else f"member_{k}"
        members.append(build_model(spec, len(LABELS), train[0], config.filters, name=name))
        histories.append(fit(members[-1], train, validation, config.epochs))
    history = {key: [float(v) for v in np.mean([h[key] for h in histories], axis=0)] for key in histories[0]}
    return (members[0] if config.members == 1 else average(members)), history


def _test_metrics(parts: Parts, probabilities: np.ndarray, threshold: float) -> dict[str, Any]:
    truth = [c.label for c in parts.test]
    predicted = label_at(probabilities, LABELS, threshold)
    synthetic_metrics = clip_metrics(truth, predicted, LABELS)
    return {
        "synthetic": synthetic_metrics,
        "calibration": calibration(truth, probabilities, LABELS),
        "inconclusive_rate": round(predicted.count("inconclusive") / len(predicted), 4),
        "goals": {
            "synthetic_accuracy_min": SYNTHETIC_ACCURACY_MIN,
            "synthetic_accuracy_met": synthetic_metrics["accuracy"] >= SYNTHETIC_ACCURACY_MIN,
        },
    }


def _metadata(
    config: TrainConfig,
    spec: FeatureSpec,
    base: list[synthetic.Clip],
    base_description: dict[str, Any],
    source_set: tuple[Source, ...],
    real: dict[Source, list[synthetic.Clip]],
    parts: Parts,
) -> dict[str, Any]:
    """metadata.json without the threshold, the metrics and the sha256, which come later.

    Every source of the set is named (with its licence); only the trained ones, which were
    read, with their Debian version and clip count."""
    sources = [
        {**source.to_dict(), "debian_version": package_version(source.package), "clips": len(real[source])}
        if source in real
        else source.to_dict()
        for source in source_set
    ]
    return {
        "name": config.name,
        "version": config.version,
        "labels": list(LABELS),
        "negative_labels": list(NEGATIVE_LABELS),
        "display_names": DISPLAY_NAMES,
        **serving_fields(spec),
        "model_card": model_card(sources, config.data),
        "training_data": {
            "kind": base_description.pop("kind", "mixed"),
            **base_description,
            "real_sources": sources,
            "clips": dict(Counter(c.label for c in base)),
            "real_not_cough_clips": sum(len(clips) for clips in real.values()),
            "parts": {
                "train_clips": len(parts.train),
                "validation_clips": len(parts.validation) + len(parts.validation_real),
                "test_synthetic_clips": len(parts.test),
            },
        },
        "training": {
            "epochs": config.epochs,
            "seed": config.seed,
            "members": config.members,
            "per_class": config.per_class,
            "sources": config.sources,
            "tensorflow": tf.__version__,
            "python": platform.python_version(),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "keras_model": KERAS_FILE,
            "data": config.data,
            "command": f"coughcloud train --version {config.version} --data {config.data} "
            f"--sources {config.sources} --per-class {config.per_class} --epochs {config.epochs}"
            + ("" if config.filters == FILTERS else f" --filters {','.join(map(str, config.filters))}")
            + ("" if config.members == 1 else f" --members {config.members}")
            + ("" if config.threshold is None else f" --threshold {config.threshold:g}"),
        },
    }
