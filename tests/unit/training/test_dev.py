"""training/dev/: the development set is seeded, stays apart from training and from the
held-out set, and scores a model folder."""

from __future__ import annotations

from collections import Counter

import numpy as np

from shared.config import REPO_ROOT
from training import dev
from training.dev.__main__ import score
from training.sources import DEV_SOURCES, SOURCES
from training.synthetic import RATE

from .test_held_out import _imports, modules_reaching

TRAINING = REPO_ROOT / "training"


def test_nothing_outside_the_development_set_reaches_it() -> None:
    assert modules_reaching("dev") == set()


def test_the_development_recipes_share_no_code_with_training_or_the_held_out_set() -> None:
    for name in ("modal.py", "glide.py"):
        assert {n for n in _imports(TRAINING / "dev" / name) if n.startswith("training")} == set(), name


def test_the_development_packages_are_neither_trained_nor_held_out() -> None:
    assert {s.package for s in DEV_SOURCES}.isdisjoint({s.package for s in SOURCES})
    assert all(source.use == "dev" for source in DEV_SOURCES)


def test_clips_are_seeded_balanced_and_wet_is_longer() -> None:
    first, again = dev.generate(per_label=6), dev.generate(per_label=6)
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(dev.generate(per_label=1, seed=1)[0].samples, first[0].samples)
    recipe_and_label = Counter((c.source.split(":")[1], c.label) for c in first)
    assert recipe_and_label == {(recipe, label): 6 for recipe in dev.RECIPES for label in ("dry", "wet")}
    for clip in first:
        assert clip.rate == RATE and clip.samples.dtype == np.float32
        assert 0.2 * RATE < clip.samples.size < 8 * RATE and 0.01 < np.max(np.abs(clip.samples)) <= 1.0
    rng = np.random.default_rng(0)
    for recipe in dev.RECIPES.values():
        dry = np.mean([recipe(False, RATE, rng).size for _ in range(20)])
        wet = np.mean([recipe(True, RATE, rng).size for _ in range(20)])
        assert wet > 1.5 * dry


def test_score_reports_recall_per_recipe() -> None:
    folder = REPO_ROOT / "models" / "cough-classifier" / "1.2.0"
    record = score(folder, per_label=2, real=False)
    coughs = record["coughs"]
    assert coughs["clips"] == 8 and set(coughs["by_recipe"]) == set(dev.RECIPES)
    assert sum(coughs["labels"].values()) == 8
    assert set(coughs["labels"]) <= {"dry", "wet", "not_cough", "inconclusive"}
    assert "real" not in record
    assert record["command"] == f"python -m training.dev {folder}"
