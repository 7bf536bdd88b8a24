"""The result store: Firestore `results/{key}`, and the status lifecycle on it.

received → features_ready → done | failed. Events arrive at least once and in any order.
The final transition happens once per generation: it is won by `create()` of a marker
document (AlreadyExists for every other delivery). Earlier transitions are a read then an
update guarded by the document's `last_update_time`, which Cloud Firestore enforces (the
local emulator ignores it, so there only the document's existence is checked; the write
order below keeps that harmless: nothing is written to `status` after the features are
published). No transactions: the emulator can lose concurrent transactional updates
silently (docs/design/emulators.md).

Erasure (an owner's DELETE) may run while the pipeline still works on the upload. The eraser
deletes the object, then the document, then its markers; the pipeline never creates the
document of an owned upload except when claiming it (preprocess then reads the object and
erases its claim if the object is gone), and a final write that finds the document gone
removes its own marker. So nothing of an erased upload is left behind or re-created.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from google.api_core import exceptions as api_exceptions
from google.cloud import firestore
from google.cloud.firestore_v1 import DocumentReference, DocumentSnapshot
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.accounts.ownership import owner_of
from shared.cloud.firestore import client as _db
from shared.cloud.firestore import unchanged_since
from shared.config import settings
from shared.errors import TransientError
from shared.pipeline.messages import FINISHED, Upload

_MAX_RACES = 10
# `shard` spreads the rising updated_at over this many index ranges: Firestore caps a
# collection with a rising indexed value at 500 writes a second, each range separately
# (infra/terraform/firestore.tf indexes (shard, updated_at) and nothing else on updated_at).
STATS_SHARDS = 16
TIME_PAGE = 500  # documents per read of a time-range query
# Documents of one owner created in the same instant as a page cursor, read past a page.
_CURSOR_TIES = 8


def _ref(key: str) -> DocumentReference:
    return _db().collection(settings().RESULTS_COLLECTION).document(key)


def now() -> datetime:
    return datetime.now(UTC)


def expire_at() -> datetime:
    """When a document created now is erased by the Firestore TTL policy (RETENTION_DAYS)."""
    return now() + timedelta(days=settings().RETENTION_DAYS)


def new_document(upload: Upload, trace_id: str | None, at: Any) -> dict[str, Any]:
    """A `received` document with every contract field present (null until known).

    `at` is a datetime, or SERVER_TIMESTAMP so that `created_at` is when the write landed
    (the client retries a write while Firestore is unavailable).
    """
    return {
        "owner": owner_of(upload.name),
        "shard": shard_of(upload.key),
        "expire_at": expire_at(),
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
        "features_message_id": None,
        "trace_id": trace_id,
        # The model lifecycle's fields (shared/registry/), emptied for every new generation: a
        # re-upload never inherits the last recording's shadow answer, scores or feedback.
        # `scores` is a map, not null: re-scoring adds `scores.<version>` into it (the
        # emulator silently drops a nested update under a null).
        **dict.fromkeys(("shadow", "scored_at", "feedback", "feedback_at")),
        "scores": {},
    }


def shard_of(key: str) -> int:
    """The key's index range for time-range queries (the key is a sha256 in hex: evenly spread)."""
    return int(key[:8], 16) % STATS_SHARDS


def get(key: str) -> dict[str, Any] | None:
    snapshot = _ref(key).get()
    return snapshot.to_dict() if snapshot.exists else None


def updated_since(cutoff: datetime) -> list[dict[str, Any]]:
    """Every result document written at or after `cutoff` (`coughcloud stats`), shard by shard."""
    collection = _db().collection(settings().RESULTS_COLLECTION)
    found = []
    for shard in range(STATS_SHARDS):
        shard_query = collection.where(filter=FieldFilter("shard", "==", shard))
        found += [snapshot.to_dict() for snapshot in in_time_pages(shard_query, "updated_at", cutoff)]
    return found


def in_time_pages(query: Any, field: str, since: Any) -> Iterator[DocumentSnapshot]:
    """The documents of `query` whose `field` is at or after `since`, in time order, read in pages
    of TIME_PAGE so no one read holds a whole collection. The next page starts at the last time
    read (a filter: the emulator has no cursors), skipping that instant's documents already read."""
    size = TIME_PAGE
    seen: set[str] = set()
    while True:
        ranged = query.where(filter=FieldFilter(field, ">=", since)).order_by(field)
        page = list(ranged.limit(size).stream())
        fresh = [snapshot for snapshot in page if snapshot.id not in seen]
        yield from fresh
        if len(page) < size or not fresh:
            return
        since = page[-1].get(field)
        seen = {snapshot.id for snapshot in page if snapshot.get(field) == since}


class BadPageToken(ValueError):
    """A `page_token` this API did not hand out."""


@dataclass(frozen=True)
class Page:
    documents: list[tuple[str, dict[str, Any]]]  # (key, document), newest first
    next_token: str | None


def _page_token(document: dict[str, Any], key: str) -> str:
    cursor = {"created_at": document["created_at"].isoformat(), "key": key}
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")


def _cursor(token: str) -> dict[str, Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        created_at = datetime.fromisoformat(raw["created_at"])
        if created_at.tzinfo is None:
            raise ValueError("a cursor's time must have a zone")
        # In UTC, as Firestore compares it (a time near the calendar's ends overflows here).
        return {"created_at": created_at.astimezone(UTC), "key": str(raw["key"])}
    except (binascii.Error, ValueError, TypeError, KeyError, RecursionError, OverflowError):
        raise BadPageToken("page_token is not one this API handed out; start again without it.") from None


def owned_page(uid: str, limit: int, page_token: str | None) -> Page:
    """One page of `uid`'s result documents, newest first (index: owner ↑, created_at ↓).

    The token is the last document's (created_at, key), so a page stays correct when
    documents are added or erased meanwhile.
    """
    query = (
        _db()
        .collection(settings().RESULTS_COLLECTION)
        .where(filter=FieldFilter("owner", "==", uid))
        .order_by("created_at", direction=firestore.Query.DESCENDING)
    )
    if page_token:
        cursor = _cursor(page_token)
        query = query.where(filter=FieldFilter("created_at", "<=", cursor["created_at"]))
    found: list[tuple[str, dict[str, Any]]] = []
    # One more than the page tells whether there is a next one; the cursor's own instant may
    # repeat a few documents already served (skipped below), so read a few beyond that.
    for snapshot in query.limit(limit + 1 + _CURSOR_TIES).stream():
        document = snapshot.to_dict()
        if page_token and document["created_at"] == cursor["created_at"] and snapshot.id >= cursor["key"]:
            continue  # the same instant as the cursor: keys order ties, so skip those already served
        found.append((snapshot.id, document))
        if len(found) > limit:
            break
    more = len(found) > limit
    documents = found[:limit]
    return Page(documents, _page_token(documents[-1][1], documents[-1][0]) if more else None)


def keys_owned_by(uid: str) -> list[str]:
    """The keys of every result document `uid` owns."""
    query = _db().collection(settings().RESULTS_COLLECTION).where(filter=FieldFilter("owner", "==", uid))
    return [snapshot.id for snapshot in query.stream()]


def keys_named_under(prefix: str) -> list[str]:
    """The keys of every result document whose name starts with `prefix` (ending in `/`),
    whatever its `owner` says: an erasure sweeps by name as well as by owner."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)  # every name under `prefix/` sorts before it
    query = (
        _db()
        .collection(settings().RESULTS_COLLECTION)
        .where(filter=FieldFilter("name", ">=", prefix))
        .where(filter=FieldFilter("name", "<", end))
    )
    return [snapshot.id for snapshot in query.select([]).stream()]


def erase(key: str) -> bool:
    """Delete `results/{key}` and its finish markers (the document first; see the module doc).

    Whether there was a document.
    """
    ref = _ref(key)
    existed = ref.get().exists
    ref.delete()
    for marker in ref.collection("finished").stream():
        marker.reference.delete()
    return existed


def erase_claim(upload: Upload) -> bool:
    """Erase the document if it still records this generation (its object is gone: erased)."""
    doc = get(upload.key)
    if doc is None or int(doc.get("generation") or 0) != upload.generation:
        return False
    return erase(upload.key)


def _guarded_update(ref: DocumentReference, since: Any, fields: dict[str, Any]) -> Any:
    """Apply `fields` if nobody wrote since the update time `since`; the write's update_time, or None."""
    try:
        return ref.update(fields, option=unchanged_since(since)).update_time
    except (api_exceptions.FailedPrecondition, api_exceptions.Aborted, api_exceptions.NotFound):
        return None


def _guarded_create(ref: DocumentReference, document: dict[str, Any]) -> Any:
    try:
        return ref.create(document).update_time
    except (api_exceptions.Conflict, api_exceptions.AlreadyExists):
        return None


# --- preprocess: claiming an upload event -----------------------------------------------------

# replaced: a later generation of an owned name, which a signed URL can create only by a
# replay where Cloud Storage does not enforce its create-only precondition (the emulator).
ClaimOutcome = Literal["work", "stale", "duplicate", "replaced"]


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    attempt: int = 0
    recorded_generation: int | None = None
    status: str | None = None


def _needs_features(doc: dict[str, Any]) -> bool:
    """Whether this generation's features message is not yet known to be published."""
    status = doc.get("status")
    return status == "received" or (status == "features_ready" and not doc.get("features_message_id"))


def claim_upload(upload: Upload, trace_id: str) -> Claim:
    """Record one delivery of an upload event and say whether to work on it.

    New name or newer generation: a fresh `received` document (attempt 1). Same generation
    whose features were not published yet: a redelivery after a failure, so count the
    attempt and work again. Same generation further along: a duplicate. Older: stale.
    An owned name is written once (its signed URL is create-only): a newer generation of it
    is `replaced` and never replaces the first one's result.
    """
    ref = _ref(upload.key)
    if _guarded_create(ref, new_document(upload, trace_id, firestore.SERVER_TIMESTAMP)):
        return Claim("work", attempt=1)  # the usual case, a new name: one write, no read
    for _ in range(_MAX_RACES):
        snapshot = ref.get()
        at = firestore.SERVER_TIMESTAMP
        if not snapshot.exists:
            if _guarded_create(ref, new_document(upload, trace_id, at)):
                return Claim("work", attempt=1)
            continue
        doc = snapshot.to_dict()
        recorded = int(doc.get("generation") or 0)
        if recorded > upload.generation:
            return Claim("stale", recorded_generation=recorded)
        if recorded < upload.generation and owner_of(upload.name) is not None:
            return Claim("replaced", recorded_generation=recorded)
        if recorded < upload.generation:
            if _guarded_update(ref, snapshot.update_time, new_document(upload, trace_id, at)):
                return Claim("work", attempt=1)
            continue
        if not _needs_features(doc):
            return Claim("duplicate", recorded_generation=recorded, status=doc.get("status"))
        attempt = int(doc.get("attempts") or 0) + 1
        if _guarded_update(ref, snapshot.update_time, {"attempts": attempt, "updated_at": at}):
            return Claim("work", attempt=attempt)
    raise TransientError(f"results/{upload.key}: lost {_MAX_RACES} write races in a row")


# --- transitions of one generation ---------------------------------------------------------------

# erased: the owner erased the upload meanwhile; nothing was written.
TransitionOutcome = Literal["applied", "stale", "duplicate", "erased"]


@dataclass(frozen=True)
class Transition:
    outcome: TransitionOutcome
    document: dict[str, Any] | None = None
    update_time: Any = None
    previous_status: str | None = None  # of an applied final transition: what `reopen` restores


def _read(ref: DocumentReference) -> tuple[DocumentSnapshot, dict[str, Any] | None]:
    snapshot = ref.get()
    return snapshot, snapshot.to_dict() if snapshot.exists else None


def mark_features_ready(upload: Upload, audio: dict[str, Any], timings: dict[str, float]) -> Transition:
    """received → features_ready, written before the features are published, so that predict's
    `done` can never be overwritten by it. Not `applied` when another delivery got there first."""
    ref = _ref(upload.key)
    for _ in range(_MAX_RACES):
        snapshot, doc = _read(ref)
        if doc is None or int(doc.get("generation") or 0) != upload.generation:
            return Transition("stale", doc)
        if not _needs_features(doc):
            return Transition("duplicate", doc)
        fields = {
            "status": "features_ready",
            "audio": audio,
            "timings": {**(doc.get("timings") or {}), **timings},
            "updated_at": now(),
        }
        written = _guarded_update(ref, snapshot.update_time, fields)
        if written:
            return Transition("applied", {**doc, **fields}, written)
    raise TransientError(f"results/{upload.key}: lost {_MAX_RACES} write races in a row")


def record_features_published(
    upload: Upload, ready: Transition, message_id: str, timings: dict[str, float]
) -> None:
    """Note the published message id (it ends redelivery work); never touches `status`.

    Usually nobody wrote since `ready` (our features_ready write): one guarded update. Else
    (predict already finished, say) the document is read to check it is still this generation.
    """
    ref = _ref(upload.key)
    fields = {"features_message_id": message_id, **{f"timings.{k}": v for k, v in timings.items()}}
    if _guarded_update(ref, ready.update_time, fields):
        return
    _, doc = _read(ref)
    if doc is not None and int(doc.get("generation") or 0) == upload.generation:
        with contextlib.suppress(api_exceptions.NotFound):  # erased by its owner meanwhile
            ref.update(fields)


def _finish_marker(key: str, generation: int) -> DocumentReference:
    return _ref(key).collection("finished").document(str(generation))


def _finish(
    key: str,
    generation: int,
    fields: dict[str, Any],
    timings: dict[str, float],
    fresh: Upload | None,
) -> Transition:
    """Write the final state of `generation` (`fields`), exactly once per generation.

    Exclusivity rests on `create()` of the marker `results/{key}/finished/{generation}`: of
    any number of racing deliveries exactly one creates it (on Firestore and on the emulator,
    which does not enforce update-time preconditions). Given `fresh`, a missing document or
    one for an older generation is replaced, so a failure or result is never dropped for
    lack of a `received` record. Timings are merged field by field, so none written
    meanwhile by the other stage is lost.

    An owned upload whose document is missing was erased by its owner (preprocess claims
    every upload before anything else is written): it is not re-created. Every other write
    here is an update, which fails once the document is gone; the marker is then removed.
    """
    ref = _ref(key)
    _, doc = _read(ref)
    recorded = int(doc.get("generation") or 0) if doc else 0
    if doc is None and fresh is not None and owner_of(fresh.name) is not None:
        return Transition("erased")
    if recorded > generation or (doc is None and fresh is None):
        return Transition("stale", doc)
    if recorded == generation and doc.get("status") in FINISHED:
        return Transition("duplicate", doc)
    marker = _finish_marker(key, generation)
    if not _guarded_create(marker, {"status": fields["status"], "at": now(), "expire_at": expire_at()}):
        return Transition("duplicate", _read(ref)[1])
    at = now()
    try:
        if doc is None:
            document = {**new_document(fresh, None, at), **fields, "timings": dict(timings)}
            ref.set(document)
            return Transition("applied", document, previous_status="received")
        if recorded < generation:
            document = {**new_document(fresh, None, at), **fields, "timings": dict(timings)}
            ref.update(document)
            return Transition("applied", document, previous_status="received")
        timings = {**timings, "pipeline_ms": round((at - doc["created_at"]).total_seconds() * 1000, 3)}
        ref.update({**fields, "updated_at": at, **{f"timings.{name}": ms for name, ms in timings.items()}})
    except api_exceptions.NotFound:
        marker.delete()
        return Transition("erased")
    merged = {**(doc.get("timings") or {}), **timings}
    document = {**doc, **fields, "updated_at": at, "timings": merged}
    return Transition("applied", document, previous_status=doc.get("status"))


def mark_done(upload: Upload, result: dict[str, Any], timings: dict[str, float]) -> Transition:
    """→ done, at most once per generation: only the delivery that gets `applied` may publish."""
    fields = {**result, "status": "done", "error": None}
    return _finish(upload.key, upload.generation, fields, timings, fresh=upload)


def reopen(key: str, generation: int, status: str) -> None:
    """Undo our own final write (its result could not be published) so a redelivery redoes it."""
    _finish_marker(key, generation).delete()
    with contextlib.suppress(api_exceptions.NotFound):  # erased by its owner meanwhile: nothing to redo
        _ref(key).update({"status": status, "updated_at": now()})


def mark_failed(
    key: str, generation: int, code: str, message: str, fresh: Upload | None = None
) -> Transition:
    """→ failed with `error{code, message}`, unless this generation already finished.

    Pass the upload as `fresh` when it is known, so a failure is recorded even if no
    `received` document exists yet (a bad name, a dead-lettered first delivery).
    """
    fields = {"status": "failed", "error": {"code": code, "message": message}}
    return _finish(key, generation, fields, {}, fresh=fresh)
