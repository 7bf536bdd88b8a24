"""Features in pure numpy, equal to librosa's for every option of a FeatureSpec (shared/ml/spec.py).

Serving must not import librosa (numba's first use costs seconds; docs/design/ml-stack.md), so this
module re-implements librosa 0.11's pipeline step by step:

    frames (centred with constant or reflect padding, or not) → periodic window of
    win_length padded to n_fft → |rfft|^power → mel filterbank (slaney or htk scale,
    slaney area norm or none) → mel | log (power_to_db with ref/amin/top_db, or
    ln(mel + log_offset)) → log_mel | DCT (type 1/2/3, ortho or not) → first n_mfcc rows

then the model's inputs (`model_inputs`): the matrix pooled over time (mean, mean and
standard deviation), cut into windows, or whole; optionally standardised per feature; in
the layout the model takes. `tests/unit/ml/test_features.py` checks each option against
librosa. The filterbank, window and DCT matrix are built once per spec and cached.
"""

from __future__ import annotations

import functools

import numpy as np

from shared.ml.spec import REF_MAX, FeatureSpec

# Slaney's mel scale (librosa, htk=False): linear below 1 kHz, logarithmic above.
_MEL_HZ_STEP = 200.0 / 3
_LOG_HZ = 1000.0
_LOG_MEL = _LOG_HZ / _MEL_HZ_STEP
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz: np.ndarray, htk: bool) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + hz / 700.0)
    log = _LOG_MEL + np.log(np.maximum(hz, _LOG_HZ) / _LOG_HZ) / _LOG_STEP
    return np.where(hz >= _LOG_HZ, log, hz / _MEL_HZ_STEP)


def _mel_to_hz(mel: np.ndarray, htk: bool) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    log = _LOG_HZ * np.exp(_LOG_STEP * (mel - _LOG_MEL))
    return np.where(mel >= _LOG_MEL, log, _MEL_HZ_STEP * mel)


@functools.cache
def mel_filterbank(spec: FeatureSpec) -> np.ndarray:
    """[n_mels, 1 + n_fft // 2] float32, as `librosa.filters.mel` with the spec's scale and norm."""
    htk = spec.mel_scale == "htk"
    fft_freqs = np.fft.rfftfreq(spec.n_fft, 1.0 / spec.sample_rate)
    mel_points = np.linspace(_hz_to_mel(spec.fmin, htk), _hz_to_mel(spec.fmax, htk), spec.n_mels + 2)
    mel_freqs = _mel_to_hz(mel_points, htk)
    fdiff = np.diff(mel_freqs)
    ramps = mel_freqs[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if spec.mel_norm == "slaney":
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


# Periodic windows (scipy.signal.get_window(..., fftbins=True), as librosa uses) as cosine sums.
_COSINE_TERMS = {"hann": (0.5, 0.5), "hamming": (0.54, 0.46), "blackman": (0.42, 0.5, 0.08), "boxcar": (1.0,)}


@functools.cache
def _window(spec: FeatureSpec) -> np.ndarray:
    """The periodic window of win_length, zero-padded to n_fft in the centre (librosa's pad_center)."""
    n = np.arange(spec.win_length)
    terms = _COSINE_TERMS[spec.window]
    window_of_length = (
        terms[0] - terms[1] * np.cos(2.0 * np.pi * n / spec.win_length) if len(terms) > 1 else 1.0
    )
    if len(terms) > 2:
        window_of_length = window_of_length + terms[2] * np.cos(4.0 * np.pi * n / spec.win_length)
    left = (spec.n_fft - spec.win_length) // 2
    window = np.zeros(spec.n_fft)
    window[left : left + spec.win_length] = window_of_length
    return window


@functools.cache
def _dct_matrix(spec: FeatureSpec) -> np.ndarray:
    """The first n_mfcc rows of scipy's DCT (type, norm) of size n_mels, transposed: [n_mels, n_mfcc]."""
    n, k = spec.n_mels, np.arange(spec.n_mfcc)[:, None]
    m = np.arange(n)[None, :]
    ortho = spec.dct_norm == "ortho"
    if spec.dct_type == 2:
        if ortho:
            basis = np.cos(np.pi * k * (2 * m + 1) / (2 * n)) * np.sqrt(2.0 / n)
            basis[0] /= np.sqrt(2.0)
        else:
            basis = 2.0 * np.cos(np.pi * k * (2 * m + 1) / (2 * n))
    elif spec.dct_type == 3:
        basis = 2.0 * np.cos(np.pi * m * (2 * k + 1) / (2 * n))
        basis[:, 0] = 1.0
        if ortho:
            basis[:, 0] *= np.sqrt(1.0 / n)
            basis[:, 1:] *= np.sqrt(1.0 / (2 * n))
    else:  # type 1
        basis = 2.0 * np.cos(np.pi * k * m / (n - 1))
        basis[:, [0, -1]] *= 0.5
        if ortho:
            basis[:, [0, -1]] *= np.sqrt(2.0)
            basis *= np.sqrt(1.0 / (2 * (n - 1)))
            basis[k[:, 0] == 0] /= np.sqrt(2.0)
            basis[k[:, 0] == n - 1] /= np.sqrt(2.0)
    return np.ascontiguousarray(basis.T)


def n_frames(n_samples: int, spec: FeatureSpec) -> int:
    """How many frames `feature_matrix` returns for that many samples (before pooling)."""
    if spec.pooling == "none":
        return spec.frames
    if spec.center:
        return 1 + n_samples // spec.hop_length
    return 1 + (n_samples - spec.n_fft) // spec.hop_length


def _fixed_length(spec: FeatureSpec) -> int:
    """For pooling `none`: the clip length whose features have exactly `frames` frames."""
    return (spec.frames - 1) * spec.hop_length + (0 if spec.center else spec.n_fft)


def feature_matrix(samples: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """The features of mono audio at `spec.sample_rate`: float32 [n_features, frames].

    With pooling `none` the clip is first cut or zero-padded at its end to the length that
    gives `frames` frames (`librosa.util.fix_length`), as training code does for a fixed input.
    """
    y = np.asarray(samples, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("the features need a non-empty 1-D array of samples")
    if spec.pooling == "none":
        length = _fixed_length(spec)
        y = y[:length] if y.size >= length else np.pad(y, (0, length - y.size))
    if spec.center:
        y = np.pad(y, spec.n_fft // 2, mode=spec.pad_mode)
    elif y.size < spec.n_fft:
        raise ValueError(
            f"the clip has {y.size} samples; without centring, one frame needs n_fft={spec.n_fft}"
        )
    frames = np.lib.stride_tricks.sliding_window_view(y, spec.n_fft)[:: spec.hop_length]
    # float64 FFT: numpy's float32 path is slower here, and its round-off leaves float32
    # denormals in the power spectrum that make the filterbank product ~40x slower.
    spectrum = np.fft.rfft(frames * _window(spec), axis=-1)
    power = spectrum.real**2 + spectrum.imag**2
    if spec.power != 2.0:
        power = power ** (spec.power / 2.0)
    mel = np.empty((power.shape[0], spec.n_mels))
    for i, (lo, hi, weights) in enumerate(_mel_bands(spec)):
        mel[:, i] = power[:, lo:hi] @ weights
    if spec.kind == "mel":
        return np.ascontiguousarray(mel.T, dtype=np.float32)
    log_mel = _log(mel, spec)
    if spec.kind == "log_mel":
        return np.ascontiguousarray(log_mel.T, dtype=np.float32)
    # Both operands float64 and C-contiguous: a mixed-dtype product here takes 100x longer.
    return np.ascontiguousarray((log_mel @ _dct_matrix(spec)).T, dtype=np.float32)


def _log(mel: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """`librosa.power_to_db(mel, ref, amin, top_db)` for log db; `np.log(mel + log_offset)` for ln."""
    if spec.log == "ln":
        return np.log(mel + spec.log_offset)
    log_mel = 10.0 * np.log10(np.maximum(mel, spec.amin))
    ref = float(np.max(mel)) if spec.ref == REF_MAX else spec.ref
    log_mel -= 10.0 * np.log10(max(spec.amin, ref))
    if spec.top_db is not None:
        log_mel = np.maximum(log_mel, log_mel.max() - spec.top_db)
    return log_mel


def input_shape(spec: FeatureSpec) -> tuple[int, ...]:
    """The shape of one model input `model_inputs` gives, without batch or channel axes."""
    n = spec.n_features
    if spec.pooling == "mean":
        return (n,)
    if spec.pooling == "mean_std":
        return (2 * n,)
    frames = spec.window_frames if spec.pooling == "windows" else spec.frames
    return (n, frames) if spec.layout == "features_frames" else (frames, n)


def model_inputs(features: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """The model's inputs from a feature matrix [n_features, frames]: float32 [n_inputs, *input_shape].

    mean / mean_std: one vector, `np.mean(features, axis=1)` (then `np.std`, concatenated).
    windows: windows of window_frames frames every window_hop_frames frames, the last one
    aligned to the clip's end so no frame is dropped; a clip shorter than one window is
    repeated (wrapped) to fill it. The model's probabilities are averaged over the windows.
    none: the whole matrix (`frames` frames, see `feature_matrix`).
    `normalize` then standardises each feature: (x - mean) / std.
    """
    if spec.pooling == "mean":
        inputs = np.mean(features, axis=1)[None]
    elif spec.pooling == "mean_std":
        inputs = np.concatenate([np.mean(features, axis=1), np.std(features, axis=1)])[None]
    elif spec.pooling == "windows":
        inputs = _windows(features, spec.window_frames, spec.window_hop_frames)
    else:
        if features.shape[1] != spec.frames:
            raise ValueError(f"the features have {features.shape[1]} frames; the model takes {spec.frames}")
        inputs = features[None]
    if spec.normalize is not None:
        mean, std = (np.asarray(part, dtype=np.float32) for part in spec.normalize)
        if inputs.ndim == 3:  # per feature row, over every frame
            mean, std = mean[:, None], std[:, None]
        inputs = (inputs - mean) / std
    if inputs.ndim == 3 and spec.layout == "frames_features":
        inputs = inputs.transpose(0, 2, 1)
    return np.ascontiguousarray(inputs, dtype=np.float32)


def _windows(features: np.ndarray, width: int, hop: int) -> np.ndarray:
    total = features.shape[1]
    if total <= width:
        return np.pad(features, ((0, 0), (0, width - total)), mode="wrap")[None]
    starts = list(range(0, total - width + 1, hop))
    if starts[-1] != total - width:
        starts.append(total - width)
    return np.stack([features[:, s : s + width] for s in starts])
