"""A FeatureSpec's features computed with librosa itself: the reference serving's numpy code
(shared/ml/features.py) is checked against, by the tests and by `coughcloud models import --check`.

Every parameter is passed to librosa by name, so a field serving reads differently from
librosa shows up as a difference, never as a shared mistake.
"""

from __future__ import annotations

import librosa
import numpy as np

from shared.ml.spec import REF_MAX, FeatureSpec


def librosa_features(y: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """[n_features, frames] from librosa (0.11) for mono samples at spec.sample_rate."""
    if spec.pooling == "none":  # the clip cut or zero-padded to the length giving `frames` frames
        length = (spec.frames - 1) * spec.hop_length + (0 if spec.center else spec.n_fft)
        y = librosa.util.fix_length(y, size=length)
    mel = librosa.feature.melspectrogram(
        y=y,
        sr=spec.sample_rate,
        n_fft=spec.n_fft,
        hop_length=spec.hop_length,
        win_length=spec.win_length,
        window=spec.window,
        center=spec.center,
        pad_mode=spec.pad_mode,
        power=spec.power,
        n_mels=spec.n_mels,
        fmin=spec.fmin,
        fmax=spec.fmax,
        htk=spec.mel_scale == "htk",
        norm=spec.mel_norm,
    )
    if spec.kind == "mel":
        return mel
    if spec.log == "ln":
        log_mel = np.log(mel + spec.log_offset)
    else:
        ref = np.max if spec.ref == REF_MAX else spec.ref
        log_mel = librosa.power_to_db(mel, ref=ref, amin=spec.amin, top_db=spec.top_db)
    if spec.kind == "log_mel":
        return log_mel
    return librosa.feature.mfcc(S=log_mel, n_mfcc=spec.n_mfcc, dct_type=spec.dct_type, norm=spec.dct_norm)


def feature_difference(ours: np.ndarray, theirs: np.ndarray, spec: FeatureSpec) -> float:
    """How far serving's features are from librosa's: max absolute difference for log-scaled
    features and MFCCs, relative to the loudest band for a (power) mel spectrogram."""
    difference = float(np.max(np.abs(ours.astype(np.float64) - theirs)))
    if spec.kind == "mel":
        return difference / max(float(np.max(np.abs(theirs))), 1e-30)
    return difference


# Within these, serving computes what librosa computes (float32 round-off and no more).
FEATURE_TOLERANCE = 1e-3  # dB, ln or MFCC units; relative to the peak for kind mel: 1e-5
MEL_TOLERANCE = 1e-5


def feature_tolerance(spec: FeatureSpec) -> float:
    return MEL_TOLERANCE if spec.kind == "mel" else FEATURE_TOLERANCE
