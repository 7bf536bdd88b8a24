"""The pointer document in Firestore, `MODELS_COLLECTION/<name>`, and its history.

A change is read → pure change (shared.registry.pointer) → one batch that writes the new
pointer (guarded by the update time read, or `create()` for the first) together with a
history entry `MODELS_COLLECTION/<name>/history/<id>` saying who changed what, when, from
what to what. The batch lands whole or not at all; a change that raced another is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from google.api_core import exceptions as api_exceptions

from shared.cloud.firestore import client as db
from shared.cloud.firestore import unchanged_since
from shared.config import settings
from shared.pipeline.results import now
from shared.registry.pointer import ModelPointer, Refusal

HISTORY = "history"


def _ref(name: str) -> Any:
    return db().collection(settings().MODELS_COLLECTION).document(name)


def read_pointer(name: str) -> ModelPointer | None:
    """The stored pointer, or None when there is no document (MODEL_URI serves then)."""
    snapshot = _ref(name).get()
    return ModelPointer.from_dict(snapshot.to_dict()) if snapshot.exists else None


@dataclass(frozen=True)
class Change:
    action: str
    who: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "who": self.who, "at": self.at,
                "from": self.before, "to": self.after}  # fmt: skip


def change_pointer(
    name: str,
    action: str,
    change: Callable[[ModelPointer], ModelPointer],
    implicit_champion: str,
    who: str,
) -> Change:
    """Apply `change` to the stored pointer (or, with none stored, to one whose champion is
    `implicit_champion`, what MODEL_URI serves) and record it; Refusal leaves everything as it was."""
    ref = _ref(name)
    snapshot = ref.get()
    stored = ModelPointer.from_dict(snapshot.to_dict()) if snapshot.exists else None
    current = stored or ModelPointer(name=name, champion=implicit_champion)
    updated = change(current)
    at = now()
    record = Change(action, who, at, current.aliases() if stored else None, updated.aliases())
    document = {**updated.to_dict(), "name": name, "updated_at": at, "updated_by": who}
    batch = db().batch()
    if snapshot.exists:
        batch.update(ref, document, option=unchanged_since(snapshot.update_time))
    else:
        batch.create(ref, document)
    entry_id = f"{at.strftime('%Y%m%dT%H%M%S.%fZ')}-{uuid.uuid4().hex[:8]}"
    batch.create(ref.collection(HISTORY).document(entry_id), record.to_dict())
    try:
        batch.commit()
    except (api_exceptions.Conflict, api_exceptions.FailedPrecondition, api_exceptions.Aborted):
        message = f"The pointer of {name} changed while this change was made; nothing was changed."
        raise Refusal(message) from None
    return record


def seed_champion(name: str, version: str, who: str) -> bool:
    """Create the pointer with `version` as champion unless one exists; whether it was created."""
    if _ref(name).get().exists:
        return False
    try:
        change_pointer(name, "seed", lambda pointer: pointer, version, who)
    except Refusal:  # created meanwhile by someone else
        return False
    return True


def history(name: str) -> list[dict[str, Any]]:
    """Every recorded change, oldest first (entry ids sort by time)."""
    entries = _ref(name).collection(HISTORY).stream()
    return [entry.to_dict() for entry in sorted(entries, key=lambda entry: entry.id)]
