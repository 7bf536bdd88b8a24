"""Development cough recipe 2: a gliding band of noise, the cough as a spectral trajectory.

DEVELOPMENT SET (training/dev/): used to compare training recipes and network choices
before a release, never trained on. It shares no code with the training recipes nor with
the held-out ones.

A cough's spectrogram shows a broad band of noise that starts high and bright and slides
down and narrows as the airflow weakens. This recipe draws that trajectory and nothing
else: white noise through a band-pass whose centre slides over the cough, its width in
octaves fixed per cough (the filter recomputed every 5 ms, its state carried across), under
a two-stage envelope (a sharp first stage, a slower tail):

- dry: the centre glides from 2–5 kHz to 0.8–2.5 kHz in 80–250 ms, the band is wide,
  the tail short and smooth;
- wet: the centre starts at 0.6–2 kHz and ends at 200–700 Hz over 250–600 ms, the tail is
  long, and the band is chopped by a 6–25 Hz gate with random depth (gurgling) and
  sprinkled with clicks (sharp single-sample spikes through the same band).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt, sosfilt_zi

STEP_S = 0.005


def cough(wet: bool, rate: int, rng: np.random.Generator) -> np.ndarray:
    """One cough at `rate`, peak 1."""
    if wet:
        seconds, start_hz, end_hz = rng.uniform(0.25, 0.6), rng.uniform(600, 2000), rng.uniform(200, 700)
    else:
        seconds, start_hz, end_hz = rng.uniform(0.08, 0.25), rng.uniform(2000, 5000), rng.uniform(800, 2500)
    n = int(rate * seconds)
    source = rng.standard_normal(n)
    if wet:
        clicks = rng.integers(0, n, int(rng.uniform(10, 60) * seconds))
        source[clicks] += rng.choice([-1, 1], clicks.size) * rng.uniform(8, 25, clicks.size)
    step = int(rate * STEP_S)
    width = rng.uniform(0.6, 1.4) if not wet else rng.uniform(0.4, 1.0)  # in octaves, each side
    out = np.zeros(n)
    zi = None
    for i in range(0, n, step):
        progress = i / n
        centre = start_hz * (end_hz / start_hz) ** progress
        low = max(60.0, centre * 2**-width)
        high = min(0.45 * rate, centre * 2**width)
        sos = butter(2, [low, high], "bandpass", fs=rate, output="sos")
        if zi is None:
            zi = np.zeros_like(sosfilt_zi(sos))
        out[i : i + step], zi = sosfilt(sos, source[i : i + step], zi=zi)
    t = np.arange(n) / rate
    first = rng.uniform(0.02, 0.07)
    envelope = np.where(
        t < first,
        np.exp(-t / (first / 2)),
        np.exp(-first / (first / 2)) * np.exp(-(t - first) / (seconds / 3)),
    )
    envelope *= np.clip(t / rng.uniform(0.001, 0.01), 0, 1)
    if wet:
        gate = 0.5 + 0.5 * np.sign(np.sin(2 * np.pi * rng.uniform(6, 25) * t + rng.uniform(0, 6.3)))
        envelope *= 1 - rng.uniform(0.3, 0.8) * gate
    out *= envelope
    return out / (np.max(np.abs(out)) + 1e-12)
