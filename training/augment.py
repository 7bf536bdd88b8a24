"""Recording-chain variety for every class, so no class is told apart by how it was recorded.

Synthetic coughs are otherwise the only clips with a near-silent floor between bursts,
while every real recording carries a room, a voice or a device. Every clip (synthetic of
each class, and the real training recordings) gets, independently:

- half the time, a stretch of a real training recording mixed under it 5–30 dB below;
- half the time, a steady hiss (white to pink) 25–50 dB below its peak, as the synthetic
  generator gives its clips (one held-out prompt set has such a floor; clean studio speech
  against hissy synthetic coughs made a noise floor a cough cue);
- a quarter of the time, a telephone band (the speech prompts are 8 kHz recordings, so
  band-limited audio must not mean "not a cough");
- a quarter of the time, a DC offset, as cheap microphones and some recordings have (one
  held-out prompt set carries one; without this, offset speech sounded like a wet cough's
  low-frequency energy);
- a random level (peak 0–24 dB below full scale), as the synthetic generator gives its clips.

Backgrounds come from training sources only, never from held-out ones.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from training.synthetic import Clip

MIX_SHARE = 0.5
SNR_DB = (5.0, 30.0)
HISS_SHARE = 0.5
HISS_DB = (25.0, 50.0)
TELEPHONE_SHARE = 0.25
TELEPHONE_EDGE_HZ = (3300.0, 4000.0)
DC_SHARE = 0.25
DC_OFFSET = 0.06  # at most, as a share of the clip's peak
LEVEL_DB = (0.0, 24.0)


def mix_under(
    samples: np.ndarray, background: np.ndarray, snr_db: float, rng: np.random.Generator
) -> np.ndarray:
    """`samples` with a random stretch of `background` (looped if short) `snr_db` below it, same peak."""
    if background.size < samples.size:
        background = np.tile(background, int(np.ceil(samples.size / background.size)))
    start = int(rng.integers(0, background.size - samples.size + 1))
    stretch = background[start : start + samples.size].astype(np.float64)
    signal_rms = np.sqrt(np.mean(samples.astype(np.float64) ** 2))
    stretch_rms = np.sqrt(np.mean(stretch**2)) + 1e-12
    mixed = samples + stretch * (signal_rms / stretch_rms) * 10 ** (-snr_db / 20)
    return (mixed * np.max(np.abs(samples)) / (np.max(np.abs(mixed)) + 1e-12)).astype(np.float32)


def hiss(n: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise between white and pink (1/f^a, a in [0, 1])."""
    spectrum = np.fft.rfft(rng.standard_normal(n)) / np.maximum(
        np.fft.rfftfreq(n, 1.0 / rate), 20.0
    ) ** rng.uniform(0, 1)
    noise = np.fft.irfft(spectrum, n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def telephone_band(samples: np.ndarray, rate: int, edge_hz: float) -> np.ndarray:
    """Everything above `edge_hz` removed, as an 8 kHz telephone recording has it."""
    spectrum = np.fft.rfft(samples)
    spectrum[np.fft.rfftfreq(samples.size, 1.0 / rate) > edge_hz] = 0
    return np.fft.irfft(spectrum, samples.size).astype(np.float32)


def augment(clips: list[Clip], backgrounds: list[Clip], seed: int) -> list[Clip]:
    """The clips with their recording chain varied as above (seeded)."""
    rng = np.random.default_rng([seed, 7])
    out = []
    for clip in clips:
        samples = clip.samples
        if backgrounds and rng.random() < MIX_SHARE:
            background = backgrounds[int(rng.integers(len(backgrounds)))].samples
            samples = mix_under(samples, background, rng.uniform(*SNR_DB), rng)
        if rng.random() < HISS_SHARE:
            floor = np.max(np.abs(samples)) * 10 ** (-rng.uniform(*HISS_DB) / 20)
            samples = samples + hiss(samples.size, clip.rate, rng) * floor
        if rng.random() < TELEPHONE_SHARE:
            samples = telephone_band(samples, clip.rate, rng.uniform(*TELEPHONE_EDGE_HZ))
        peak = np.max(np.abs(samples)) + 1e-12
        if rng.random() < DC_SHARE:
            samples = samples + rng.uniform(-DC_OFFSET, DC_OFFSET) * peak
        level = 10 ** (-rng.uniform(*LEVEL_DB) / 20)
        samples = samples / (np.max(np.abs(samples)) + 1e-12) * level
        out.append(replace(clip, samples=samples.astype(np.float32)))
    return out
