"""What an owner says a recording really was: `feedback: {label, at}` on its result document.

The labels a result accepts are its model's (the keys of its probabilities) and `not_cough`.
Labelled results are what `coughcloud feedback export` turns into a training set, closing the
loop feedback → data set → `coughcloud train` → `models push` → canary.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from shared.config import settings
from shared.pipeline import results
from shared.pipeline.messages import LABELS

NOT_COUGH = "not_cough"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def allowed_labels(document: dict[str, Any]) -> list[str]:
    """The result's model's labels (all of LABELS when it has no answer), and not_cough."""
    probabilities = document.get("probabilities")
    labels = set(probabilities) if isinstance(probabilities, dict) and probabilities else set(LABELS)
    order = {label: i for i, label in enumerate(LABELS)}  # Firestore keeps no key order
    return sorted(labels | {NOT_COUGH}, key=lambda label: (order.get(label, len(order)), label))


def record(key: str, label: str) -> dict[str, Any]:
    """Store the owner's label on the result (replacing an earlier one); the stored feedback.

    `feedback_at` repeats the time at the top level: the Firestore emulator cannot filter on a
    nested field, and a range filter on it is how `labelled` finds labelled results.
    """
    feedback = {"label": label, "at": results.now()}
    reference = results.db().collection(settings().RESULTS_COLLECTION).document(key)
    reference.update({"feedback": feedback, "feedback_at": feedback["at"]})
    return feedback


def labelled(since: datetime = EPOCH) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every result labelled at or after `since`, with its key, oldest label first, read in pages
    (a range filter skips documents without feedback)."""
    collection = results.db().collection(settings().RESULTS_COLLECTION)
    for snapshot in results.in_time_pages(collection, "feedback_at", since):
        document = snapshot.to_dict()
        if isinstance(document.get("feedback"), dict):
            yield snapshot.id, document
