"""The page's model card (frontend_stub/src/lib/modelNotice.js) quotes each shipped version's
held-out figures: they must be the ones training/evaluate.py recorded in its metadata.json."""

from __future__ import annotations

import json
import re

import pytest

from shared.config import REPO_ROOT

NOTICE = (REPO_ROOT / "frontend_stub" / "src" / "lib" / "modelNotice.js").read_text(encoding="utf-8")
MODELS = REPO_ROOT / "models" / "cough-classifier"
SENTENCE = re.compile(
    r'"cough-classifier@(?P<version>[\d.]+)": \{.*?evaluated: `On (?P<clips>\d+) synthetic coughs from two '
    r"recipes it never saw, it called (?P<recall>\d+) % a cough and got dry or wet right on (?P<right>\d+) % "
    r"of those; it called (?P<real>[\d.]+) % of (?P<real_clips>\d+) real non-cough recordings it never "
    r"heard a cough\.",
    re.S,
)
QUOTED = {m["version"]: m for m in SENTENCE.finditer(NOTICE)}


def test_every_shipped_version_is_quoted() -> None:
    assert set(QUOTED) == {p.name for p in MODELS.iterdir() if (p / "metadata.json").is_file()}


@pytest.mark.parametrize("version", sorted(QUOTED))
def test_the_quoted_figures_are_the_recorded_ones(version: str) -> None:
    record = json.loads((MODELS / version / "metadata.json").read_text())["metrics"]["held_out"]
    quoted = QUOTED[version]
    assert int(quoted["clips"]) == record["coughs"]["clips"]
    assert int(quoted["recall"]) == round(100 * record["coughs"]["called_cough_rate"])
    assert int(quoted["right"]) == round(100 * record["coughs"]["dry_wet_right_of_called"])
    assert float(quoted["real"]) == round(100 * record["real"]["called_cough_rate"], 1)
    assert int(quoted["real_clips"]) == record["real"]["clips"]
