"""Clips → model inputs: the serving feature code (shared.ml.features) cut into model windows."""

from __future__ import annotations

import numpy as np

from shared.ml.features import feature_matrix, model_inputs
from shared.ml.spec import FeatureSpec
from training.synthetic import Clip

# What the cough nets take: 20 log-dB MFCCs at 16 kHz (25 ms windows every 10 ms) in 1-s
# windows every 0.5 s, the windows' probabilities averaged.
FEATURES = FeatureSpec.from_dict(
    {
        "kind": "mfcc",
        "sample_rate": 16000,
        "n_fft": 512,
        "hop_length": 160,
        "win_length": 400,
        "n_mels": 64,
        "fmin": 20.0,
        "fmax": 8000.0,
        "n_mfcc": 20,
        "pooling": "windows",
        "window_frames": 100,
        "window_hop_frames": 50,
    }
)


def split_clips(clips: list[Clip], held_out: float, seed: int) -> tuple[list[Clip], list[Clip]]:
    """A stratified train / held-out split at the clip level (windows of one clip never straddle it)."""
    rng = np.random.default_rng(seed)
    train: list[Clip] = []
    test: list[Clip] = []
    for label in sorted({clip.label for clip in clips}):
        members = [clip for clip in clips if clip.label == label]
        order = rng.permutation(len(members))
        n_test = max(1, round(len(members) * held_out)) if len(members) > 1 else 0
        test.extend(members[i] for i in order[:n_test])
        train.extend(members[i] for i in order[n_test:])
    return train, test


def clip_features(clips: list[Clip], spec: FeatureSpec) -> list[np.ndarray]:
    """The feature matrix of each clip, exactly as the preprocess function computes it."""
    for clip in clips:
        if clip.rate != spec.sample_rate:
            raise ValueError(f"{clip.source}: {clip.rate} Hz, the feature spec needs {spec.sample_rate} Hz")
    return [feature_matrix(clip.samples, spec) for clip in clips]


def window_dataset(
    features: list[np.ndarray], labels: list[str], label_names: tuple[str, ...], spec: FeatureSpec
) -> tuple[np.ndarray, np.ndarray]:
    """Every model window of every clip, each labelled with its clip's label: X [N, n_mfcc, W], y [N]."""
    xs, ys = [], []
    for matrix, label in zip(features, labels, strict=True):
        windows = model_inputs(matrix, spec)
        xs.append(windows)
        ys.append(np.full(len(windows), label_names.index(label), dtype=np.int64))
    return np.concatenate(xs), np.concatenate(ys)
