"""A model's labels: what it answers (in its output order), which of them mean "not what we
look for", and the names the page shows for them.

metadata.json holds them: `labels` (required), `negative_labels` (optional, a subset of
`labels`; none when absent) and `display_names` (optional, `{label: text}`). They are read and
checked here only, and travel on every result's `model` object (`LabelSet.info`), so the API,
feedback, `feedback export`, `stats` and the page need nothing but the result itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.errors import ModelError

INCONCLUSIVE = "inconclusive"
# A label is also a folder name (`feedback export`), a Firestore map key and a metric label:
# letters, digits, `_` and `-`, starting with a letter or digit.
LABEL_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_DISPLAY_NAME = 80


@dataclass(frozen=True)
class LabelSet:
    labels: tuple[str, ...]
    negative: frozenset[str] = frozenset()
    display_names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any], where: str) -> LabelSet:
        """The labels of a model's metadata.json; ModelError saying what is wrong otherwise."""
        labels = metadata.get("labels")
        if not isinstance(labels, list) or not labels:
            raise ModelError(f"metadata.json at {where}: labels must be a non-empty list of strings.")
        bad = [label for label in labels if not isinstance(label, str) or not LABEL_PATTERN.fullmatch(label)]
        if bad:
            raise ModelError(
                f"metadata.json at {where}: labels {bad!r} are not label names (1-64 letters, digits, "
                "'_' or '-', starting with a letter or digit)."
            )
        if INCONCLUSIVE in labels:
            raise ModelError(
                f"metadata.json at {where}: {INCONCLUSIVE!r} cannot be a label: serving answers it "
                "below the threshold."
            )
        if len(set(labels)) != len(labels):
            raise ModelError(f"metadata.json at {where}: labels repeat: {labels!r}.")
        negative = metadata.get("negative_labels", [])
        if not isinstance(negative, list) or not all(label in labels for label in negative):
            raise ModelError(
                f"metadata.json at {where}: negative_labels must be a list of some of its labels "
                f"({', '.join(labels)}), not {negative!r}."
            )
        if set(negative) == set(labels):
            raise ModelError(
                f"metadata.json at {where}: every label is in negative_labels, so the model could "
                "never find anything."
            )
        names = metadata.get("display_names", {})
        if not isinstance(names, dict) or not all(
            label in labels and isinstance(text, str) and 0 < len(text.strip()) <= MAX_DISPLAY_NAME
            for label, text in names.items()
        ):
            raise ModelError(
                f"metadata.json at {where}: display_names must map some of its labels to texts of "
                f"1-{MAX_DISPLAY_NAME} characters, not {names!r}."
            )
        return cls(
            tuple(labels), frozenset(negative), {label: names[label] for label in labels if label in names}
        )

    @classmethod
    def of_model_info(cls, model: Any) -> LabelSet | None:
        """The labels a result's `model` object carries; None for results written without them."""
        labels = model.get("labels") if isinstance(model, dict) else None
        if not isinstance(labels, list) or not labels:
            return None
        negative = model.get("negative_labels") or []
        names = model.get("display_names") or {}
        return cls(
            tuple(str(label) for label in labels),
            frozenset(str(label) for label in negative),
            {str(label): str(text) for label, text in names.items()} if isinstance(names, dict) else {},
        )

    @property
    def info(self) -> dict[str, Any]:
        """What a result's `model` object carries: labels (in output order), negative_labels and
        display_names."""
        return {
            "labels": list(self.labels),
            "negative_labels": [label for label in self.labels if label in self.negative],
            "display_names": dict(self.display_names),
        }


def answer_kind(label: str, negative_labels: Iterable[str]) -> str:
    """`found`, `negative` or `inconclusive`: what an answer means, whatever the model's labels."""
    if label == INCONCLUSIVE:
        return INCONCLUSIVE
    return "negative" if label in negative_labels else "found"
