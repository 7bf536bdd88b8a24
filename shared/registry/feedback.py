"""What an owner says a recording really was: `feedback: {label, at}` on its result document.

The labels a result accepts are its model's (the keys of its probabilities) and `not_cough`.
Labelled results are what `coughcloud feedback export` turns into a training set, closing the
loop feedback → data set → `coughcloud train` → `models push` → canary.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from google.cloud.firestore_v1.base_query import FieldFilter

from shared.config import settings
from shared.pipeline import results
from shared.pipeline.messages import LABELS

NOT_COUGH = "not_cough"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def allowed_labels(document: dict[str, Any]) -> list[str]:
    """The result's model's labels (all of LABELS when it has no answer), and not_cough."""
    probabilities = document.get("probabilities")
    labels = list(probabilities) if isinstance(probabilities, dict) and probabilities else list(LABELS)
    return [*labels, *([NOT_COUGH] if NOT_COUGH not in labels else [])]


def record(key: str, label: str) -> dict[str, Any]:
    """Store the owner's label on the result (replacing an earlier one); the stored feedback."""
    feedback = {"label": label, "at": results.now()}
    results.db().collection(settings().RESULTS_COLLECTION).document(key).update({"feedback": feedback})
    return feedback


def labelled() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every result that has feedback, with its key (a range filter skips documents without it)."""
    collection = results.db().collection(settings().RESULTS_COLLECTION)
    query = collection.where(filter=FieldFilter("feedback.at", ">=", _EPOCH))
    for snapshot in query.stream():
        yield snapshot.id, snapshot.to_dict()
