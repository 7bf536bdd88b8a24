"""The page's model card (frontend_stub/src/lib/modelNotice.js) quotes each shipped version's
held-out figures: they must be the ones training/evaluate.py recorded in its metadata.json."""

from __future__ import annotations

import json
import re

import pytest

from shared.config import REPO_ROOT

NOTICE = (REPO_ROOT / "frontend_stub" / "src" / "lib" / "modelNotice.js").read_text(encoding="utf-8")
MODELS = REPO_ROOT / "models" / "cough-classifier"
QUOTE = re.compile(
    r'"cough-classifier@(?P<version>[\d.]+)": \{.*?heldOut: \{ coughs: (?P<clips>\d+), '
    r"recall: (?P<recall>[\d.]+), "
    r"dryWetRight: (?P<right>[\d.]+), realClips: (?P<real_clips>\d+), realCalledCough: (?P<real>[\d.]+) \}",
    re.S,
)
QUOTED = {m["version"]: m for m in QUOTE.finditer(NOTICE)}


def test_every_shipped_version_is_quoted() -> None:
    assert set(QUOTED) == {p.name for p in MODELS.iterdir() if (p / "metadata.json").is_file()}


@pytest.mark.parametrize("version", sorted(QUOTED))
def test_the_quoted_figures_are_the_recorded_ones(version: str) -> None:
    record = json.loads((MODELS / version / "metadata.json").read_text())["metrics"]["held_out"]
    quoted = QUOTED[version]
    assert int(quoted["clips"]) == record["coughs"]["clips"]
    assert float(quoted["recall"]) == round(100 * record["coughs"]["called_cough_rate"], 1)
    assert float(quoted["right"]) == round(100 * record["coughs"]["dry_wet_right_of_called"], 1)
    assert int(quoted["real_clips"]) == record["real"]["clips"]
    assert float(quoted["real"]) == round(100 * record["real"]["called_cough_rate"], 1)
