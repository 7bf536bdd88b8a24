"""training/held_out/: the held-out cough recipes stay apart from training and decode as uploads."""

from __future__ import annotations

import ast
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from shared.config import REPO_ROOT
from shared.ml.audio import decode_audio
from training import held_out
from training.evaluate import HELD_OUT_KEY, evaluate_released, held_out_cough_metrics

TRAINING = REPO_ROOT / "training"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return names


def modules_reaching(package: str) -> set[str]:
    """The modules under training/, outside training/<package>/, that import it."""
    return {
        path.relative_to(REPO_ROOT).as_posix()
        for path in TRAINING.rglob("*.py")
        if package not in path.relative_to(TRAINING).parts
        and any(name.startswith(f"training.{package}") for name in _imports(path))
    }


def test_only_evaluate_reaches_the_held_out_recipes() -> None:
    assert modules_reaching("held_out") == {"training/evaluate.py"}


def test_the_held_out_recipes_share_no_code_with_training() -> None:
    for path in (TRAINING / "held_out").glob("*.py"):
        borrowed = {
            n for n in _imports(path) if n.startswith("training") and not n.startswith("training.held_out")
        }
        assert borrowed == set(), path


def test_clips_are_seeded_balanced_and_decodable() -> None:
    first, again = held_out.clips(per_label=2), held_out.clips(per_label=2)
    assert [c.data for c in first] == [c.data for c in again]
    assert Counter((c.recipe, c.label) for c in first) == {
        (recipe, label): 2 for recipe in held_out.RECIPES for label in ("dry", "wet")
    }
    assert held_out.clips(per_label=1, seed=1)[0].data != first[0].data
    for clip in first:
        audio = decode_audio(clip.data, 16_000)
        assert 0.3 < audio.duration_s < 6.0
        assert audio.samples.max() > 0.01


def test_every_container_encodes_and_decodes() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    samples = (rng.standard_normal(22_050) * 0.1).astype(np.float32)
    for container in held_out.FORMATS:
        audio = decode_audio(held_out._encode(samples, 22_050, container, rng), 16_000)
        assert 0.9 < audio.duration_s < 1.2, container


def test_held_out_cough_metrics_counts_recall_and_dry_wet() -> None:
    truth = ["dry", "dry", "wet", "wet"]
    predicted = ["dry", "wet", "inconclusive", "not_cough"]
    metrics = held_out_cough_metrics(truth, predicted, {"recipe": ["a", "b", "a", "b"]})
    assert metrics["called_cough_rate"] == 0.5
    assert metrics["dry_wet_right_of_called"] == 0.5
    assert metrics["inconclusive_rate"] == 0.25
    assert metrics["by_recipe"]["a"] == {
        "clips": 2,
        "called_cough_rate": 0.5,
        "dry_wet_right_of_called": 1.0,
        "inconclusive_rate": 0.5,
    }


def test_a_second_look_is_refused_unless_asked_for(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(REPO_ROOT / "models" / "cough-classifier" / "1.1.0", folder)
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["metrics"][HELD_OUT_KEY] = {"looks": 1}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(ValueError, match="already evaluated on the held-out data"):
        evaluate_released(folder)
