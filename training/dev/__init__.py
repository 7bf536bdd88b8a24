"""The development set: coughs and real non-coughs for choosing between training candidates.

NEVER TRAINED ON, AND NOT THE HELD-OUT SET. Choosing a recipe, a share or a network by the
held-out figures would tune on them; choosing blind would be guessing. So candidates are
compared here, on as many looks as it takes, and only the chosen model meets the held-out
data (training/held_out/, once). What this set measures is how a model does on coughs
made by recipes it never trained on, the same question the held-out set answers, asked of
different recipes:

- two cough recipes written apart from both the training family and the held-out recipes,
  each by another approach (training/dev/modal.py: modal synthesis; training/dev/glide.py:
  a gliding noise band), dry and wet;
- a recording chain of its own: 1–3 coughs 0.1–0.7 s apart, a background of coloured
  noise 12–35 dB below, a level, and a share through a lossy codec decoded as serving
  decodes an upload;
- real non-coughs from the development packages of training/sources.py (DEV_SOURCES),
  which training never reads either.

    .venv/bin/python -m training.dev MODEL_DIR [--record]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from shared.ml.audio import decode_audio
from training import recipes
from training.dev import glide, modal
from training.synthetic import RATE, Clip

SEED = 4242  # fixed: every candidate meets the same clips
PER_LABEL = 60  # per recipe and label: 240 clips in all
RECIPES: dict[str, Callable[[bool, int, np.random.Generator], np.ndarray]] = {
    "modal": modal.cough,
    "glide": glide.cough,
}
CODEC_SHARE = 0.4


def _clip(recipe: str, label: str, index: int, rng: np.random.Generator) -> Clip:
    parts = [np.zeros(int(RATE * rng.uniform(0.05, 0.3)))]
    for i in range(int(rng.integers(1, 4))):
        if i:
            parts.append(np.zeros(int(RATE * rng.uniform(0.1, 0.7))))
        parts.append(RECIPES[recipe](label == "wet", RATE, rng) * rng.uniform(0.5, 1.0))
    parts.append(np.zeros(int(RATE * rng.uniform(0.05, 0.3))))
    samples = np.concatenate(parts)
    colour = rng.uniform(0.0, 1.0)  # 0 white, 0.5 pink, 1 brown
    spectrum = np.fft.rfft(rng.standard_normal(samples.size))
    noise = np.fft.irfft(
        spectrum / np.maximum(np.fft.rfftfreq(samples.size, 1 / RATE), 20) ** colour, samples.size
    )
    rms = np.sqrt(np.mean(samples**2))
    samples = samples + noise / (np.sqrt(np.mean(noise**2)) + 1e-12) * rms * 10 ** (-rng.uniform(12, 35) / 20)
    samples = (samples / np.max(np.abs(samples)) * 10 ** (-rng.uniform(1, 15) / 20)).astype(np.float32)
    if rng.random() < CODEC_SHARE:
        codec = recipes.CODECS[int(rng.integers(len(recipes.CODECS)))]
        data = recipes.encode(
            samples, int(rng.choice(recipes.CODEC_RATES)), codec, RATE, int(rng.choice(recipes.BITRATES))
        )
        samples = decode_audio(data, RATE).samples[: samples.size].astype(np.float32)
    return Clip(samples, RATE, label, f"dev:{recipe}:{index}:{label}")


def generate(per_label: int = PER_LABEL, seed: int = SEED) -> list[Clip]:
    """Every development cough, the same for the same arguments (each recipe on its own generator)."""
    out = []
    for number, recipe in enumerate(RECIPES):
        rng = np.random.default_rng([seed, number])
        out += [_clip(recipe, label, i, rng) for i in range(per_label) for label in ("dry", "wet")]
    return out
