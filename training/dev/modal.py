"""Development cough recipe 1: modal synthesis, a cough as a struck resonant body.

DEVELOPMENT SET (training/dev/): used to compare training recipes and network choices
before a release, never trained on. It shares no code with the training recipes nor with
the held-out ones.

Physically based sound rendering describes a sounding object as a set of vibration modes,
each a damped sinusoid, excited by a force. Here the airway and chest are the object and
the expulsive airflow is the force:

- 12–40 modes with log-uniform frequencies (dry: 400–6000 Hz, wet: 120–2500 Hz), decay
  rates of 8–60 per second and amplitudes falling with frequency at a random slope;
- the excitation is a noise burst with a 1 ms rise and a gamma-like fall
  (dry: 40–160 ms, wet: 150–450 ms), convolved with the modes (so every mode rings
  after the burst stops), plus a share of the raw burst (the air's own hiss);
- wet coughs add a "rattle": short (4 ms), randomly timed kicks in the excitation (4–20
  per second) that strike the body again, and an amplitude wobble of 5–20 Hz; dry coughs a
  clean ring-down.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve


def _modes(wet: bool, rate: int, rng: np.random.Generator, seconds: float) -> np.ndarray:
    """The impulse response of the body: a sum of damped sinusoids."""
    t = np.arange(int(rate * seconds)) / rate
    low, high = (120.0, 2500.0) if wet else (400.0, 6000.0)
    count = int(rng.integers(12, 41))
    freqs = np.exp(rng.uniform(np.log(low), np.log(min(high, 0.45 * rate)), count))
    slope = rng.uniform(0.3, 1.5)
    response = np.zeros_like(t)
    for f in freqs:
        amplitude = (f / low) ** -slope * rng.uniform(0.3, 1.0)
        response += (
            amplitude * np.exp(-rng.uniform(8, 60) * t) * np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))
        )
    return response / (np.max(np.abs(response)) + 1e-12)


def cough(wet: bool, rate: int, rng: np.random.Generator) -> np.ndarray:
    """One cough at `rate`, peak 1."""
    burst_s = rng.uniform(0.15, 0.45) if wet else rng.uniform(0.04, 0.16)
    n = int(rate * burst_s)
    t = np.arange(n) / rate
    shape = rng.uniform(1.2, 3.0)
    envelope = (t / burst_s * 6) ** (shape - 1) * np.exp(-t / burst_s * 6 * (shape - 1) / shape * 2)
    envelope[: max(1, int(rate * 0.001))] = np.linspace(0, 1, max(1, int(rate * 0.001)))
    force = rng.standard_normal(n) * envelope / (np.max(envelope) + 1e-12)
    if wet:
        for start in rng.integers(0, n, rng.poisson(rng.uniform(4, 20) * burst_s) + 1):
            force[start : start + int(rate * 0.004)] += rng.uniform(1, 3) * rng.standard_normal(
                force[start : start + int(rate * 0.004)].size
            )
    body = fftconvolve(force, _modes(wet, rate, rng, burst_s + 0.25))
    body = body / (np.max(np.abs(body)) + 1e-12)
    hiss = np.concatenate([force, np.zeros(body.size - n)])
    out = body + rng.uniform(0.1, 0.6) * hiss / (np.max(np.abs(hiss)) + 1e-12)
    if wet:
        tt = np.arange(out.size) / rate
        out *= 1 - rng.uniform(0.2, 0.6) * (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(5, 20) * tt))
    return out / (np.max(np.abs(out)) + 1e-12)
