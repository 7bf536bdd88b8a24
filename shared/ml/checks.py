"""Input checks on an upload before and after decoding, with the error codes of docs/design/contracts.md.

Each refusal is an InputError whose message gives the measured value and the limit,
so a person knows what to change. Limits come from shared.config.settings().
"""

from __future__ import annotations

import math

import numpy as np

from shared.config import settings
from shared.errors import InputError
from shared.ml.audio import DecodedAudio


def check_upload_size(size: int, limit: int | None = None) -> None:
    """Refuse an empty upload (`empty_audio`) or one over MAX_UPLOAD_BYTES (`too_large`)."""
    limit = settings().MAX_UPLOAD_BYTES if limit is None else limit
    if size <= 0:
        raise InputError("empty_audio", "The file is empty (0 bytes).")
    if size > limit:
        raise InputError(
            "too_large", f"The file is {_megabytes(size)}; at most {_megabytes(limit)} is allowed."
        )


def check_audio(audio: DecodedAudio) -> None:
    """Refuse decoded audio that is non-finite, too short, too long or silent."""
    cfg = settings()
    if not np.isfinite(audio.samples).all():
        raise InputError("corrupt_audio", "The recording contains invalid sample values (NaN or infinity).")
    length = f"The recording is {_seconds(audio.duration_s)} s long"
    if audio.duration_s < cfg.MIN_DURATION_S:
        raise InputError("too_short", f"{length}; at least {cfg.MIN_DURATION_S:g} s is needed.")
    if audio.duration_s > cfg.MAX_DURATION_S:
        raise InputError("too_long", f"{length}; at most {cfg.MAX_DURATION_S:g} s is allowed.")
    peak_db, rms_db = levels_dbfs(audio.samples)
    if peak_db < cfg.SILENCE_DBFS or rms_db < cfg.SILENCE_DBFS:
        if peak_db == -math.inf:
            raise InputError("silent_audio", "The recording is silent: every sample is zero.")
        raise InputError(
            "silent_audio",
            f"The recording is too quiet to analyse: its level is {rms_db:.1f} dBFS RMS "
            f"(peak {peak_db:.1f} dBFS); at least {cfg.SILENCE_DBFS:g} dBFS is needed.",
        )


def levels_dbfs(samples: np.ndarray) -> tuple[float, float]:
    """(peak, RMS) in dB relative to full scale, after removing any DC offset; -inf for no signal.

    RMS is 20·log10(rms), so a full-scale sine measures -3 dBFS. A constant (DC) signal
    counts as silence: a stuck microphone carries no sound.
    """
    if samples.size == 0:
        return -math.inf, -math.inf
    centred = samples.astype(np.float64) - float(np.mean(samples, dtype=np.float64))
    peak = float(np.max(np.abs(centred)))
    rms = math.sqrt(float(np.mean(centred * centred)))
    return _db(peak), _db(rms)


def _db(level: float) -> float:
    return 20 * math.log10(level) if level > 0 else -math.inf


def _seconds(value: float) -> str:
    """0.1, 0.25, 30.004: enough digits to see why a value is on the wrong side of a limit."""
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.1f} MiB" if size >= 2**20 // 10 else f"{size} bytes"
