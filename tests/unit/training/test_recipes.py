"""training/recipes.py: the randomized cough family is seeded, labelled, and wet differs from dry
the way the recipes say (longer, more low-frequency energy); the recording chain is seeded too."""

from __future__ import annotations

import numpy as np
import pytest

from training import recipes
from training.synthetic import LABELS, RATE


def test_recipes_are_seeded_and_labelled() -> None:
    first, again, other = (
        recipes.generate(3, seed=4),
        recipes.generate(3, seed=4),
        recipes.generate(3, seed=5),
    )
    assert [c.label for c in first] == list(LABELS) * 3
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[0].samples, other[0].samples)
    for clip in first:
        assert clip.samples.dtype == np.float32 and clip.rate == RATE
        assert 0.1 * RATE < clip.samples.size < 6 * RATE
        assert 0 < np.max(np.abs(clip.samples)) <= 1.0
    with pytest.raises(ValueError):
        recipes.make_clip("sneeze", np.random.default_rng(0))


def _low_share(x: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    return float(power[np.fft.rfftfreq(x.size, 1.0 / RATE) < 600].sum() / power.sum())


@pytest.mark.parametrize("recipe", recipes.RECIPES, ids=lambda r: r.__name__)
def test_wet_coughs_are_longer_and_lower_than_dry_ones(recipe) -> None:
    rng = np.random.default_rng(0)
    dry = [recipe(rng, False) for _ in range(40)]
    wet = [recipe(rng, True) for _ in range(40)]
    assert np.median([x.size for x in wet]) > 1.3 * np.median([x.size for x in dry])
    assert np.median([_low_share(x) for x in wet]) > np.median([_low_share(x) for x in dry])


def test_the_recording_chain_is_seeded_and_keeps_length_and_peak() -> None:
    clips = recipes.generate(4, seed=1)
    chained = recipes.codec(recipes.room_and_microphone(clips, 2), 2)
    again = recipes.codec(recipes.room_and_microphone(clips, 2), 2)
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(chained, again, strict=True))
    changed = sum(not np.array_equal(a.samples, b.samples) for a, b in zip(clips, chained, strict=True))
    assert changed >= len(clips) // 2
    for before, after in zip(clips, chained, strict=True):
        assert after.label == before.label and after.samples.dtype == np.float32
        assert before.samples.size - 2048 <= after.samples.size <= before.samples.size
        assert np.isfinite(after.samples).all() and np.max(np.abs(after.samples)) < 1.5


@pytest.mark.parametrize("codec", recipes.CODECS, ids=lambda c: c[1])
def test_every_codec_round_trips_through_the_serving_decoder(codec) -> None:
    from shared.ml.audio import decode_audio

    x = (np.random.default_rng(0).standard_normal(RATE) * 0.1).astype(np.float32)
    data = recipes.encode(x, 22_050, codec, RATE, 32_000)
    assert 0.95 < decode_audio(data, RATE).duration_s < 1.1


def test_look_alikes_are_seeded_sounds_with_a_cough_outline() -> None:
    from training import look_alikes

    for recipe in look_alikes.RECIPES:
        first, again = recipe(np.random.default_rng(3)), recipe(np.random.default_rng(3))
        assert np.array_equal(first, again), recipe.__name__
        assert np.isfinite(first).all() and np.max(np.abs(first)) > 0, recipe.__name__
        assert 0.05 * RATE < first.size < 5 * RATE, recipe.__name__
    clip = look_alikes.make_clip(np.random.default_rng(0))
    assert clip.dtype == np.float32 and np.isclose(np.max(np.abs(clip)), 1.0)
