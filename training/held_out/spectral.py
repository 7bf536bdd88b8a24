"""Held-out cough recipe 2: a recorded-like time envelope painted with sampled spectral shapes.

HELD OUT. Nothing that trains, tunes or chooses a threshold imports this module; it is
measured once per released model by `training/evaluate.py`. It shares no code with the
training recipes on purpose.

Instead of simulating a source, this recipe draws the cough's spectrogram directly, the
way a cough looks in a recording, and turns it into sound with random phases (a short-time
Fourier synthesis, overlap-add):

- the loudness over time is a gamma-shaped envelope (a fast rise and a skewed fall; its
  shape parameter sets how abrupt), sometimes with a second, quieter hump for the voiced
  tail;
- the spectrum at each moment is a log-frequency curve sampled from a few smooth random
  shapes (Gaussian bumps on a tilt); it morphs from the explosive shape to the tail shape;
- frame-to-frame the magnitude flickers (Rayleigh-distributed) as real noisy recordings do.

Wet coughs: a longer fall, their spectral shape weighted below ~1 kHz, and a magnitude
modulated at 6–25 Hz with scattered broadband frames (the bubbling and crackle of mucus).
Dry coughs: a short abrupt envelope, bumps between 1 and 5 kHz, a smooth fall.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import gamma as gamma_distribution

FRAME_S = 0.016
HOP_FRACTION = 0.25


def _shape(rng: np.random.Generator, freqs: np.ndarray, wet: bool) -> np.ndarray:
    """A smooth random spectral magnitude over `freqs` (Hz): bumps in log frequency on a tilt."""
    octaves = np.log2(np.maximum(freqs, 30.0) / 1000.0)
    tilt = rng.uniform(-9.0, -4.0) if wet else rng.uniform(-4.0, 1.0)  # dB per octave above 1 kHz
    db = tilt * octaves
    centres = rng.uniform(-2.5, 0.2, 3) if wet else rng.uniform(-0.2, 2.3, 3)  # octaves re 1 kHz
    for centre in centres:
        db += rng.uniform(6, 20) * np.exp(-0.5 * ((octaves - centre) / rng.uniform(0.15, 0.6)) ** 2)
    db[freqs < rng.uniform(60, 150)] -= 30.0
    return 10 ** (db / 20)


def _envelope(frames: int, frame_rate: float, wet: bool, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(frames) / frame_rate
    shape = rng.uniform(1.2, 2.5) if wet else rng.uniform(1.05, 1.6)
    scale = rng.uniform(0.06, 0.14) if wet else rng.uniform(0.02, 0.06)
    env = gamma_distribution.pdf(t + 1e-4, shape, scale=scale)
    if rng.random() < 0.5:  # a voiced or rumbling tail
        start = rng.uniform(0.1, 0.3)
        tail = gamma_distribution.pdf(np.maximum(t - start, 0) + 1e-4, 2.0, scale=rng.uniform(0.03, 0.1))
        env = env / env.max() + rng.uniform(0.1, 0.4) * tail / tail.max()
    return env / (env.max() + 1e-12)


def cough(wet: bool, rate: int, rng: np.random.Generator) -> np.ndarray:
    """One cough at `rate`, float64, peak 1."""
    size = 1 << int(np.round(np.log2(FRAME_S * rate)))
    hop = int(size * HOP_FRACTION)
    seconds = rng.uniform(0.35, 0.8) if wet else rng.uniform(0.2, 0.45)
    frames = int(seconds * rate / hop)
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    start_shape, end_shape = _shape(rng, freqs, wet), _shape(rng, freqs, wet)
    morph = np.linspace(0, 1, frames)[:, None] ** rng.uniform(0.5, 2.0)
    magnitude = (1 - morph) * start_shape + morph * end_shape
    magnitude *= _envelope(frames, rate / hop, wet, rng)[:, None]
    magnitude *= rng.rayleigh(1.0, magnitude.shape)
    if wet:
        t = np.arange(frames) * hop / rate
        bubbling = 0.5 + 0.5 * np.abs(np.sin(2 * np.pi * rng.uniform(6, 25) * t + rng.uniform(0, 6.3)))
        magnitude *= bubbling[:, None]
        clicks = rng.random(frames) < rng.uniform(0.02, 0.08)
        magnitude[clicks] += magnitude.max() * rng.uniform(0.05, 0.2)
    phases = np.exp(2j * np.pi * rng.random(magnitude.shape))
    window = np.hanning(size)
    out = np.zeros(frames * hop + size)
    for i, spectrum in enumerate(magnitude * phases):
        out[i * hop : i * hop + size] += np.fft.irfft(spectrum, size) * window
    return out / (np.max(np.abs(out)) + 1e-12)
