"""The result store: Firestore `results/{key}`, and the status lifecycle on it.

received → features_ready → done | failed. Events arrive at least once and in any order,
so every transition is a read followed by an update guarded by the document's
`last_update_time` (or a `create()` that fails when the document exists): two deliveries
racing for the same transition cannot both win. Transactions are not used because the
local emulator can lose concurrent transactional updates silently (DESIGN.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import firebase_admin
from firebase_admin import credentials, firestore
from google.api_core import exceptions as api_exceptions
from google.auth.credentials import AnonymousCredentials
from google.cloud.firestore_v1 import DocumentReference, DocumentSnapshot

from shared.config import settings
from shared.errors import TransientError
from shared.messages import Upload

ACTIVE: frozenset[str] = frozenset({"received", "features_ready"})
_MAX_RACES = 10
_APP_NAME = "coughcloud-results"


class _EmulatorCredential(credentials.Base):
    """The emulator takes no credentials; firebase_admin still wants a credential object."""

    def get_credential(self) -> AnonymousCredentials:
        return AnonymousCredentials()


@functools.cache
def _db() -> Any:
    config = settings()
    credential = _EmulatorCredential() if config.FIRESTORE_EMULATOR_HOST else credentials.ApplicationDefault()
    app = firebase_admin.initialize_app(
        credential, {"projectId": config.GOOGLE_CLOUD_PROJECT}, name=_APP_NAME
    )
    return firestore.client(app)


def _ref(key: str) -> DocumentReference:
    return _db().collection(settings().RESULTS_COLLECTION).document(key)


def now() -> datetime:
    return datetime.now(UTC)


def new_document(upload: Upload, trace_id: str | None, at: datetime) -> dict[str, Any]:
    """A `received` document with every contract field present (null until known)."""
    return {
        "name": upload.name,
        "bucket": upload.bucket,
        "generation": upload.generation,
        "status": "received",
        "label": None,
        "confidence": None,
        "probabilities": None,
        "model": None,
        "error": None,
        "timings": {},
        "attempts": 1,
        "created_at": at,
        "updated_at": at,
        "content_type": upload.content_type,
        "size": upload.size,
        "audio": None,
        "trace_id": trace_id,
    }


def get(key: str) -> dict[str, Any] | None:
    snapshot = _ref(key).get()
    return snapshot.to_dict() if snapshot.exists else None


def _guarded_update(ref: DocumentReference, snapshot: DocumentSnapshot, fields: dict[str, Any]) -> Any:
    """Apply `fields` if nobody wrote since `snapshot`; the write's update_time, or None if raced."""
    try:
        option = _db().write_option(last_update_time=snapshot.update_time)
        return ref.update(fields, option=option).update_time
    except (api_exceptions.FailedPrecondition, api_exceptions.Aborted, api_exceptions.NotFound):
        return None


def _guarded_create(ref: DocumentReference, document: dict[str, Any]) -> Any:
    try:
        return ref.create(document).update_time
    except (api_exceptions.Conflict, api_exceptions.AlreadyExists):
        return None


# --- preprocess: claiming an upload event -----------------------------------------------------

ClaimOutcome = Literal["work", "stale", "duplicate"]


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    attempt: int = 0
    recorded_generation: int | None = None
    status: str | None = None


def claim_upload(upload: Upload, trace_id: str) -> Claim:
    """Record one delivery of an upload event and say whether to work on it.

    New name or newer generation: a fresh `received` document (attempt 1). Same generation
    still `received`: a redelivery after a failure, so count the attempt and work again.
    Same generation further along: a duplicate. Older generation: stale.
    """
    ref = _ref(upload.key)
    for _ in range(_MAX_RACES):
        snapshot = ref.get()
        at = now()
        if not snapshot.exists:
            if _guarded_create(ref, new_document(upload, trace_id, at)):
                return Claim("work", attempt=1)
            continue
        doc = snapshot.to_dict()
        recorded = int(doc.get("generation") or 0)
        if recorded > upload.generation:
            return Claim("stale", recorded_generation=recorded)
        if recorded < upload.generation:
            if _guarded_update(ref, snapshot, new_document(upload, trace_id, at)):
                return Claim("work", attempt=1)
            continue
        if doc.get("status") != "received":
            return Claim("duplicate", recorded_generation=recorded, status=doc.get("status"))
        attempt = int(doc.get("attempts") or 0) + 1
        if _guarded_update(ref, snapshot, {"attempts": attempt, "updated_at": at}):
            return Claim("work", attempt=attempt)
    raise TransientError(f"results/{upload.key}: lost {_MAX_RACES} write races in a row")


# --- transitions of one generation ---------------------------------------------------------------

TransitionOutcome = Literal["applied", "stale", "duplicate"]


@dataclass(frozen=True)
class Transition:
    outcome: TransitionOutcome
    document: dict[str, Any] | None = None
    update_time: Any = None


def _transition(
    upload: Upload,
    from_statuses: Iterable[str],
    changes: Callable[[dict[str, Any]], dict[str, Any]],
    create_missing: bool,
) -> Transition:
    """Move `upload`'s document from one of `from_statuses` to what `changes(doc)` returns.

    A document for an older generation (or none, when `create_missing`) is replaced by a
    fresh one, so a failure or result is never dropped for lack of a `received` record.
    """
    allowed = frozenset(from_statuses)
    ref = _ref(upload.key)
    for _ in range(_MAX_RACES):
        snapshot = ref.get()
        at = now()
        doc = snapshot.to_dict() if snapshot.exists else None
        recorded = int(doc.get("generation") or 0) if doc else None
        if doc is None or recorded < upload.generation:
            if doc is None and not create_missing:
                return Transition("stale")
            base = new_document(upload, None, at)
            document = {**base, **changes(base), "updated_at": at}
            written = (
                _guarded_create(ref, document) if doc is None else _guarded_update(ref, snapshot, document)
            )
        elif recorded > upload.generation:
            return Transition("stale", doc)
        elif doc.get("status") not in allowed:
            return Transition("duplicate", doc)
        else:
            fields = {**changes(doc), "updated_at": at}
            document = {**doc, **fields}
            written = _guarded_update(ref, snapshot, fields)
        if written:
            return Transition("applied", document, written)
    raise TransientError(f"results/{upload.key}: lost {_MAX_RACES} write races in a row")


def mark_features_ready(upload: Upload, audio: dict[str, Any], timings: dict[str, float]) -> Transition:
    """received → features_ready (a no-op if predict already finished the document)."""

    def changes(doc: dict[str, Any]) -> dict[str, Any]:
        return {"status": "features_ready", "audio": audio, "timings": {**doc["timings"], **timings}}

    return _transition(upload, {"received"}, changes, create_missing=False)


def mark_done(upload: Upload, result: dict[str, Any], timings: dict[str, float]) -> Transition:
    """→ done, at most once per generation: only the delivery whose write lands gets `applied`."""

    def changes(doc: dict[str, Any]) -> dict[str, Any]:
        pipeline_ms = (now() - doc["created_at"]).total_seconds() * 1000
        merged = {**(doc.get("timings") or {}), **timings, "pipeline_ms": round(pipeline_ms, 3)}
        return {**result, "status": "done", "error": None, "timings": merged}

    return _transition(upload, ACTIVE, changes, create_missing=True)


def reopen(upload: Upload, done: Transition) -> None:
    """Undo our own `done` write (nobody wrote since) so a redelivery can publish the result."""
    snapshot = _ref(upload.key).get()
    if snapshot.exists and snapshot.update_time == done.update_time:
        _guarded_update(_ref(upload.key), snapshot, {"status": "features_ready", "updated_at": now()})


def mark_failed(upload: Upload, code: str, message: str, extra: dict[str, Any] | None = None) -> Transition:
    """→ failed with `error{code, message}`, unless this generation already finished."""

    def changes(doc: dict[str, Any]) -> dict[str, Any]:
        return {**(extra or {}), "status": "failed", "error": {"code": code, "message": message}}

    return _transition(upload, ACTIVE, changes, create_missing=True)
