"""Held-out coughs: recipes the model never trains on, measured once per released model.

HELD OUT FOR REAL. Two cough recipes written apart from the training family, each in its
own module and by another approach (training/held_out/airflow.py: a physical airflow
model through a vocal-tract tube; training/held_out/spectral.py: a recorded-like envelope
painted with sampled spectral shapes). Nothing under training/ except evaluate.py imports
this package (a test checks it), so these clips never reach training, validation or the
threshold. `training/evaluate.py` scores a released model on them once and records how
many times it was looked at.

Every clip goes through a recording chain of its own (not training/augment.py's): 1–3
coughs spaced 0.15–0.6 s apart, a sample rate of 16–48 kHz, a distance (level), a
background (pink or brown noise, mains hum, or both) 10–35 dB below, and then a file
format as a browser or phone would send: 16-bit WAV, or Opus (webm/ogg), AAC (m4a) or MP3
made by ffmpeg at 24–96 kbit/s. The model is scored on the file bytes through the serving
path (decode, checks, MFCC, model).
"""

from __future__ import annotations

import io
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from training.held_out import airflow, spectral

SEED = 1919  # fixed: the same clips for every model version
PER_LABEL = 40  # per recipe and label: 160 clips in all
RATES = (16_000, 22_050, 32_000, 44_100, 48_000)
RECIPES: dict[str, Callable[[bool, int, np.random.Generator], np.ndarray]] = {
    "airflow": airflow.cough,
    "spectral": spectral.cough,
}
# container → (ffmpeg encoder, muxer), with the share of clips sent in it; "wav" is soundfile's.
FORMATS = {
    "wav": (None, None),
    "webm": ("libopus", "webm"),
    "ogg": ("libopus", "ogg"),
    "m4a": ("aac", "ipod"),
    "mp3": ("libmp3lame", "mp3"),
}
FORMAT_SHARES = (0.4, 0.2, 0.1, 0.15, 0.15)
BITRATES = ("24k", "32k", "48k", "64k", "96k")


@dataclass(frozen=True)
class HeldOutClip:
    """One held-out recording as file bytes, with its truth and how it was made."""

    data: bytes
    label: str  # dry or wet
    recipe: str
    container: str
    rate: int


def _background(n: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    kind = rng.choice(["pink", "brown", "hum", "pink+hum"])
    out = np.zeros(n)
    if "pink" in kind or kind == "brown":
        power = 1.0 if kind == "brown" else 0.5
        spectrum = np.fft.rfft(rng.standard_normal(n)) / np.maximum(np.fft.rfftfreq(n, 1 / rate), 20) ** power
        out += np.fft.irfft(spectrum, n)
    if "hum" in kind:
        t = np.arange(n) / rate
        mains = rng.choice([50.0, 60.0])
        out += sum(np.sin(2 * np.pi * mains * h * t) / h for h in range(1, 6)) * rng.uniform(0.3, 1.0)
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


def _encode(samples: np.ndarray, rate: int, container: str, rng: np.random.Generator) -> bytes:
    if container == "wav":
        buffer = io.BytesIO()
        sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
        return buffer.getvalue()
    encoder, muxer = FORMATS[container]
    source = ("-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0")
    target = ("-c:a", encoder, "-b:a", str(rng.choice(BITRATES)))
    if encoder == "libopus":
        target += ("-ar", "48000")  # Opus runs at 48 kHz
    target += ("-f", muxer)
    with tempfile.TemporaryDirectory() as folder:  # mp4 needs a seekable output for its index
        out = Path(folder) / f"clip.{container}"
        subprocess.run(
            ["ffmpeg", "-v", "error", "-bitexact", *source, *target, str(out)],
            input=samples.astype("<f4").tobytes(),
            capture_output=True,
            check=True,
        )
        return out.read_bytes()


def _clip(recipe: str, label: str, rng: np.random.Generator) -> HeldOutClip:
    rate = int(rng.choice(RATES))
    parts = [np.zeros(int(rate * rng.uniform(0.1, 0.4)))]
    for i in range(int(rng.integers(1, 4))):
        if i:
            parts.append(np.zeros(int(rate * rng.uniform(0.15, 0.6))))
        parts.append(RECIPES[recipe](label == "wet", rate, rng) * rng.uniform(0.5, 1.0))
    parts.append(np.zeros(int(rate * rng.uniform(0.1, 0.4))))
    samples = np.concatenate(parts)
    samples = samples + _background(samples.size, rate, rng) * 10 ** (-rng.uniform(10, 35) / 20) * np.sqrt(
        np.mean(samples**2)
    )
    samples = samples / np.max(np.abs(samples)) * 10 ** (-rng.uniform(1, 20) / 20)
    container = str(rng.choice(list(FORMATS), p=FORMAT_SHARES))
    return HeldOutClip(
        _encode(samples.astype(np.float32), rate, container, rng), label, recipe, container, rate
    )


def clips(per_label: int = PER_LABEL, seed: int = SEED) -> list[HeldOutClip]:
    """Every held-out clip, the same for the same arguments (each recipe on its own generator)."""
    out = []
    for recipe in RECIPES:
        rng = np.random.default_rng([seed, len(recipe), sum(map(ord, recipe))])
        out += [_clip(recipe, label, rng) for _ in range(per_label) for label in ("dry", "wet")]
    return out
