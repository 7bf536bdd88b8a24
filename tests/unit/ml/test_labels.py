"""shared/ml/labels.py: a model's labels, negative_labels and display names from metadata.json."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.config import BUNDLED_MODEL_DIR
from shared.errors import ModelError
from shared.ml.labels import LabelSet, answer_kind

SHIPPED = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())
OWN = {
    "labels": ["cough", "speech", "noise"],
    "negative_labels": ["speech", "noise"],
    "display_names": {"cough": "A cough", "noise": "Background noise"},
}


def test_the_shipped_model_says_not_cough_is_its_negative_label() -> None:
    labels = LabelSet.from_metadata(SHIPPED, "shipped")
    assert labels.labels == ("dry", "wet", "not_cough")
    assert labels.negative == {"not_cough"}
    assert labels.info == {
        "labels": ["dry", "wet", "not_cough"],
        "negative_labels": ["not_cough"],
        "display_names": {"dry": "Dry cough", "wet": "Wet cough", "not_cough": "Not a cough"},
    }


def test_negative_labels_and_display_names_are_optional() -> None:
    labels = LabelSet.from_metadata({"labels": ["yes", "no"]}, "m")
    assert (labels.negative, dict(labels.display_names)) == (frozenset(), {})
    assert labels.info == {"labels": ["yes", "no"], "negative_labels": [], "display_names": {}}


def test_a_result_carries_the_labels_and_reads_them_back_in_the_models_order() -> None:
    labels = LabelSet.from_metadata(OWN, "own")
    assert labels.info["negative_labels"] == ["speech", "noise"]  # the model's order, not the file's
    back = LabelSet.of_model_info({"name": "sound-classifier", "version": "1.0.0", **labels.info})
    assert back == labels
    assert LabelSet.of_model_info({"name": "cough-classifier", "version": "1.0.0"}) is None  # written before
    assert LabelSet.of_model_info(None) is None


def test_what_an_answer_means_whatever_the_labels() -> None:
    assert [answer_kind(label, ["speech", "noise"]) for label in ("cough", "speech", "inconclusive")] == [
        "found",
        "negative",
        "inconclusive",
    ]
    assert answer_kind("not_cough", []) == "found"  # a model without negative_labels has none


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"labels": []}, "labels must be a non-empty list"),
        ({"labels": "cough"}, "labels must be a non-empty list"),
        ({"labels": ["cough", "../x"]}, "['../x'] are not label names"),
        ({"labels": ["cough", 3]}, "[3] are not label names"),
        ({"labels": ["cough", "cough"]}, "labels repeat"),
        ({"labels": ["cough", "inconclusive"]}, "'inconclusive' cannot be a label"),
        ({"negative_labels": ["sneeze"]}, "negative_labels must be a list of some of its labels"),
        ({"negative_labels": "speech"}, "negative_labels must be a list"),
        ({"negative_labels": ["cough", "speech", "noise"]}, "could never find anything"),
        ({"display_names": {"sneeze": "A sneeze"}}, "display_names must map some of its labels"),
        ({"display_names": {"cough": ""}}, "display_names must map"),
        ({"display_names": ["A cough"]}, "display_names must map"),
    ],
)
def test_bad_labels_are_refused_with_what_is_wrong(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelError, match=r"metadata\.json at here") as refused:
        LabelSet.from_metadata({**OWN, **changes}, "here")
    assert message in refused.value.message
