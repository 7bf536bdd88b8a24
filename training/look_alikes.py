"""Synthetic not-a-cough sounds that share a cough's outline: the negatives that teach the
model what a cough is NOT when loudness over time alone would say "cough".

SYNTHETIC, NOT RECORDED. A broad cough family (training/recipes.py) teaches "a burst of
shaped noise is a cough"; without negatives of the same outline, a door knock, a click or
a gust is a cough too. Each recipe here is a plain acoustic description, randomized:

- impact: a knock or thud, a sharp excitation of a few damped low-to-mid resonances
  (80–2500 Hz, 15–120 ms), up to four times (a knock on a door, footsteps);
- clicks: a train of 2–12 very short broadband clicks (0.2–3 ms), regular or irregular
  (a keyboard, a switch, a ticking clock);
- whoosh: a long, smooth swell of band-passed noise (0.4–2 s, a slow rise and fall, its
  band moving): wind, a passing car, breath into the microphone;
- laughter: 3–8 voiced syllables ("ha"), 60–150 ms each, 150–260 ms apart, harmonics of
  a 150–400 Hz pitch through a vowel formant, breathy.

training/recipes.py draws LOOK_ALIKE_SHARE of its synthetic not-a-cough clips from here,
the rest from training/synthetic.py's.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import butter, lfilter

from training.synthetic import RATE


def _ring(rng: np.random.Generator, n: int, low: float, high: float, decay_s: float) -> np.ndarray:
    t = np.arange(n) / RATE
    out = np.zeros(n)
    for _ in range(int(rng.integers(2, 6))):
        f = np.exp(rng.uniform(np.log(low), np.log(high)))
        out += (
            rng.uniform(0.3, 1.0) * np.exp(-t / (decay_s * rng.uniform(0.5, 1.5))) * np.sin(2 * np.pi * f * t)
        )
    return out


def impact(rng: np.random.Generator) -> np.ndarray:
    """One to four knocks or thuds, each a few damped resonances struck at once."""
    parts = []
    for _ in range(int(rng.integers(1, 5))):
        n = int(RATE * rng.uniform(0.08, 0.4))
        hit = _ring(rng, n, 80, 2500, rng.uniform(0.015, 0.12))
        click = np.zeros(n)
        click[: int(RATE * 0.002)] = rng.standard_normal(int(RATE * 0.002)) * rng.uniform(0, 1)
        parts += [hit / (np.max(np.abs(hit)) + 1e-12) + click, np.zeros(int(RATE * rng.uniform(0.05, 0.5)))]
    return np.concatenate(parts)


def clicks(rng: np.random.Generator) -> np.ndarray:
    """2–12 clicks of 0.2–3 ms, regular (a clock) or irregular (typing), 0.04–0.3 s apart."""
    count = int(rng.integers(2, 13))
    gaps = rng.uniform(0.04, 0.3, count) if rng.random() < 0.5 else np.full(count, rng.uniform(0.04, 0.3))
    out = np.zeros(int(RATE * (gaps.sum() + 0.3)))
    for start in (np.cumsum(gaps) * RATE).astype(int):
        length = int(RATE * rng.uniform(0.0002, 0.003)) + 1
        burst = rng.standard_normal(length) * rng.uniform(0.3, 1.0)
        out[start : start + length] += burst[: out.size - start]
    if rng.random() < 0.5:
        out = lfilter(*butter(2, rng.uniform(1000, 6000), "highpass", fs=RATE), out)
    return out


def whoosh(rng: np.random.Generator) -> np.ndarray:
    """A smooth swell of band-passed noise, 0.4–2 s, its band moving (a crossfade of two bands)."""
    n = int(RATE * rng.uniform(0.4, 2.0))
    t = np.linspace(0, 1, n)
    bands = []
    for _ in range(2):
        centre = rng.uniform(150, 5000)
        band = [max(60.0, centre / rng.uniform(1.3, 2.5)), min(7800.0, centre * rng.uniform(1.3, 2.5))]
        noise = lfilter(*butter(2, band, "bandpass", fs=RATE), rng.standard_normal(n))
        bands.append(noise / (np.std(noise) + 1e-12))
    return (bands[0] * (1 - t) + bands[1] * t) * np.sin(np.pi * t) ** rng.uniform(0.5, 3)


def laughter(rng: np.random.Generator) -> np.ndarray:
    """3–8 breathy voiced syllables, a vowel formant over a falling pitch."""
    pitch = rng.uniform(150, 400)
    formant = rng.uniform(600, 1200)
    parts = []
    for k in range(int(rng.integers(3, 9))):
        n = int(RATE * rng.uniform(0.06, 0.15))
        t = np.arange(n) / RATE
        f0 = pitch * (1 - 0.03 * k) * (1 - 0.1 * t / t[-1])
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        voice = sum(np.sin(h * phase) * np.exp(-((((h * f0) - formant) / 400) ** 2)) for h in range(1, 16))
        breath = rng.standard_normal(n) * rng.uniform(0.1, 0.6)
        syllable = (voice + breath) * np.hanning(n)
        parts += [syllable, np.zeros(int(RATE * rng.uniform(0.09, 0.15)))]
    return np.concatenate(parts)


RECIPES: tuple[Callable[[np.random.Generator], np.ndarray], ...] = (impact, clicks, whoosh, laughter)


def make_clip(rng: np.random.Generator) -> np.ndarray:
    """One look-alike of a random kind, with a little silence around it, peak 1."""
    sound = RECIPES[int(rng.integers(len(RECIPES)))](rng)
    clip = np.concatenate(
        [np.zeros(int(RATE * rng.uniform(0.02, 0.4))), sound, np.zeros(int(RATE * rng.uniform(0.02, 0.4)))]
    )
    return (clip / (np.max(np.abs(clip)) + 1e-12)).astype(np.float32)
