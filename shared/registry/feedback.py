"""What an owner says a recording really was: `feedback: {label, at}` on its result document.

The labels a result accepts are those of the model version that answered it (`model.labels`).
Labelled results are what `coughcloud feedback export` turns into a training set, closing the
loop feedback → data set → `coughcloud train` → `models push` → canary.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from shared.cloud import firestore
from shared.config import settings
from shared.ml.labels import LabelSet
from shared.pipeline import results

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def allowed_labels(document: dict[str, Any]) -> list[str]:
    """The labels of the model that answered, in its order; for a result written before results
    carried them, the keys of its probabilities (sorted: Firestore keeps no key order). Empty for
    a result without an answer (a failed upload): no model answered, so no label applies."""
    label_set = LabelSet.of_model_info(document.get("model"))
    if label_set is not None:
        return list(label_set.labels)
    probabilities = document.get("probabilities")
    return sorted(probabilities) if isinstance(probabilities, dict) else []


def refusal(labels: list[str], label: Any) -> str:
    """Why `label` is refused for a result that accepts `labels`."""
    if not labels:
        return "This result has no answer from a model (not finished, or failed), so no label applies to it."
    return f"label must be one of {', '.join(labels)}, not {label!r}."


def record(key: str, label: str) -> dict[str, Any]:
    """Store the owner's label on the result (replacing an earlier one); the stored feedback.

    `feedback_at` repeats the time at the top level: the Firestore emulator cannot filter on a
    nested field, and a range filter on it is how `labelled` finds labelled results.
    """
    feedback = {"label": label, "at": results.now()}
    reference = firestore.client().collection(settings().RESULTS_COLLECTION).document(key)
    reference.update({"feedback": feedback, "feedback_at": feedback["at"]})
    return feedback


def labelled(since: datetime = EPOCH) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every result labelled at or after `since`, with its key, oldest label first, read in pages
    (a range filter skips documents without feedback)."""
    collection = firestore.client().collection(settings().RESULTS_COLLECTION)
    for snapshot in results.in_time_pages(collection, "feedback_at", since):
        document = snapshot.to_dict()
        if isinstance(document.get("feedback"), dict):
            yield snapshot.id, document
