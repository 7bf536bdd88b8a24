"""MFCC features in pure numpy, equal to `librosa.feature.mfcc` with the same parameters.

Serving must not import librosa (numba's first use costs seconds; docs/design/ml-stack.md), so this
module re-implements librosa's pipeline step by step:

    centred frames (zero padding) → periodic Hann window → |rfft|² → slaney mel
    filterbank (slaney scale, slaney area norm) → power_to_db(ref=1, amin, top_db)
    → orthonormal DCT-II → first n_mfcc rows.

`tests/unit/test_features.py` checks the result against librosa within 1e-3 on varied
clips. The filterbank, window and DCT matrix are built once per spec and cached.

The spec also carries the model's input window (`window_frames`, `window_hop_frames`):
a feature matrix is cut into windows of that many frames for the model (see
`feature_windows`), so preprocess and predict agree on it through the spec alone.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class FeatureSpec:
    """Every parameter that changes the feature matrix; two specs are compatible iff equal."""

    sample_rate: int = 16000
    n_mfcc: int = 20
    n_fft: int = 512
    hop_length: int = 160
    win_length: int = 400
    n_mels: int = 64
    fmin: float = 20.0
    fmax: float = 8000.0
    window: str = "hann"
    center: bool = True
    pad_mode: str = "constant"
    power: float = 2.0
    mel_scale: str = "slaney"
    mel_norm: str = "slaney"
    ref: float = 1.0
    amin: float = 1e-10
    top_db: float = 80.0
    dct_type: int = 2
    dct_norm: str = "ortho"
    # The model's input window, in frames (100 frames = 1 s at hop 160 / 16 kHz).
    window_frames: int = 100
    window_hop_frames: int = 50

    def __post_init__(self) -> None:
        supported = {
            "window": "hann",
            "center": True,
            "pad_mode": "constant",
            "power": 2.0,
            "mel_scale": "slaney",
            "mel_norm": "slaney",
            "dct_type": 2,
            "dct_norm": "ortho",
        }
        for name, value in supported.items():
            if getattr(self, name) != value:
                raise ValueError(f"FeatureSpec.{name}={getattr(self, name)!r} unsupported (only {value!r})")
        if not 0 < self.win_length <= self.n_fft:
            raise ValueError("FeatureSpec needs 0 < win_length <= n_fft")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError("FeatureSpec needs 0 <= fmin < fmax <= sample_rate / 2")
        if not 0 < self.n_mfcc <= self.n_mels:
            raise ValueError("FeatureSpec needs 0 < n_mfcc <= n_mels")
        if self.hop_length <= 0 or self.window_frames <= 0 or self.window_hop_frames <= 0:
            raise ValueError("FeatureSpec needs positive hop_length, window_frames and window_hop_frames")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """Inverse of `to_dict`; raises ValueError on missing, unknown or mistyped fields."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        missing = sorted(set(known) - set(data))
        if unknown or missing:
            raise ValueError(f"feature spec: unknown fields {unknown}, missing fields {missing}")
        values = {name: _coerce(name, type(f.default), data[name]) for name, f in known.items()}
        return cls(**values)

    def differences(self, other: FeatureSpec) -> list[str]:
        """Names of the fields whose values differ, e.g. to explain a refused spec."""
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]


def _coerce(name: str, kind: type, value: Any) -> Any:
    """`value` as the field's type, refusing lossy conversions (20.5 for an int, "1" for a float)."""
    if kind is bool:
        ok = isinstance(value, bool)
    elif kind is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        ok = ok or (isinstance(value, float) and value.is_integer())
    elif kind is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ValueError(f"feature spec: {name}={value!r} is not a {kind.__name__}")
    return kind(value)


# Slaney's mel scale (librosa, htk=False): linear below 1 kHz, logarithmic above.
_MEL_HZ_STEP = 200.0 / 3
_LOG_HZ = 1000.0
_LOG_MEL = _LOG_HZ / _MEL_HZ_STEP
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    log = _LOG_MEL + np.log(np.maximum(hz, _LOG_HZ) / _LOG_HZ) / _LOG_STEP
    return np.where(hz >= _LOG_HZ, log, hz / _MEL_HZ_STEP)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    log = _LOG_HZ * np.exp(_LOG_STEP * (mel - _LOG_MEL))
    return np.where(mel >= _LOG_MEL, log, _MEL_HZ_STEP * mel)


@functools.cache
def mel_filterbank(spec: FeatureSpec) -> np.ndarray:
    """[n_mels, 1 + n_fft // 2] float32, as `librosa.filters.mel(..., htk=False, norm="slaney")`."""
    fft_freqs = np.fft.rfftfreq(spec.n_fft, 1.0 / spec.sample_rate)
    mel_points = np.linspace(_hz_to_mel(spec.fmin), _hz_to_mel(spec.fmax), spec.n_mels + 2)
    mel_freqs = _mel_to_hz(mel_points)
    fdiff = np.diff(mel_freqs)
    ramps = mel_freqs[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_freqs[2:] - mel_freqs[:-2]))[:, None]
    return weights.astype(np.float32)


@functools.cache
def _mel_bands(spec: FeatureSpec) -> tuple[tuple[int, int, np.ndarray], ...]:
    """The filterbank as (first bin, end bin, weights) per mel band.

    Each band covers a few contiguous bins, so a product per band is ~10x less work than
    the dense product and, unlike it, never hands OpenBLAS a matrix big enough to start
    its threads (which costs milliseconds on a busy 2-core machine).
    """
    bank = mel_filterbank(spec).astype(np.float64)
    bands = []
    for row in bank:
        nonzero = np.flatnonzero(row)
        lo, hi = (int(nonzero[0]), int(nonzero[-1]) + 1) if nonzero.size else (0, 0)
        bands.append((lo, hi, np.ascontiguousarray(row[lo:hi])))
    return tuple(bands)


@functools.cache
def _window(spec: FeatureSpec) -> np.ndarray:
    """Periodic Hann of win_length, zero-padded to n_fft in the centre (librosa's pad_center)."""
    n = np.arange(spec.win_length)
    hann = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / spec.win_length)
    left = (spec.n_fft - spec.win_length) // 2
    window = np.zeros(spec.n_fft, dtype=np.float32)
    window[left : left + spec.win_length] = hann
    return window


@functools.cache
def _dct_matrix(spec: FeatureSpec) -> np.ndarray:
    """Transposed first n_mfcc rows of the orthonormal DCT-II of size n_mels: [n_mels, n_mfcc]."""
    n = spec.n_mels
    k = np.arange(spec.n_mfcc)[:, None]
    m = np.arange(n)[None, :]
    basis = np.cos(np.pi * k * (2 * m + 1) / (2 * n)) * np.sqrt(2.0 / n)
    basis[0] /= np.sqrt(2.0)
    return np.ascontiguousarray(basis.T)


def n_frames(n_samples: int, spec: FeatureSpec) -> int:
    """How many feature frames `mfcc` returns for that many samples."""
    return 1 + n_samples // spec.hop_length


def mfcc(samples: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """MFCCs of mono audio at `spec.sample_rate`: float32 [n_mfcc, 1 + len // hop_length]."""
    y = np.asarray(samples, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("mfcc needs a non-empty 1-D array of samples")
    pad = spec.n_fft // 2
    padded = np.pad(y, pad, mode="constant")
    frames = np.lib.stride_tricks.sliding_window_view(padded, spec.n_fft)[:: spec.hop_length]
    # float64 FFT: numpy's float32 path is slower here, and its round-off leaves float32
    # denormals in the power spectrum that make the filterbank product ~40x slower.
    spectrum = np.fft.rfft(frames * _window(spec).astype(np.float64), axis=-1)
    power = spectrum.real**2 + spectrum.imag**2
    mel = np.empty((power.shape[0], spec.n_mels))
    for i, (lo, hi, weights) in enumerate(_mel_bands(spec)):
        mel[:, i] = power[:, lo:hi] @ weights
    log_mel = 10.0 * np.log10(np.maximum(mel, spec.amin))
    log_mel -= 10.0 * np.log10(max(spec.amin, spec.ref))
    log_mel = np.maximum(log_mel, log_mel.max() - spec.top_db)
    # Both operands float64 and C-contiguous: a mixed-dtype product here takes 100x longer.
    return np.ascontiguousarray((log_mel @ _dct_matrix(spec)).T, dtype=np.float32)


def feature_windows(features: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Cut [n_mfcc, frames] into the model's windows: float32 [n_windows, n_mfcc, window_frames].

    The rule (also written into each model's metadata): a clip shorter than one window
    is repeated (wrapped) to fill it; a longer clip is cut into windows every
    `window_hop_frames` frames, the last one aligned to the clip's end so no frame is
    dropped. The model's probabilities are averaged over the windows.
    """
    width, hop = spec.window_frames, spec.window_hop_frames
    total = features.shape[1]
    if total <= width:
        return np.pad(features, ((0, 0), (0, width - total)), mode="wrap")[None].astype(np.float32)
    starts = list(range(0, total - width + 1, hop))
    if starts[-1] != total - width:
        starts.append(total - width)
    return np.stack([features[:, s : s + width] for s in starts]).astype(np.float32)
