"""Tombstones: short-lived records that an upload name, or a whole account, was erased.

A signed upload URL stays valid for SIGNED_URL_EXPIRY_S after it was issued. Cloud Storage
refuses its second write (the URL signs `x-goog-if-generation-match: 0`), but after an
erasure the name is free again, so a replayed URL could re-create the object and, through the
pipeline, a result owned by someone who asked to be forgotten. Erasure therefore lays a
tombstone first (`TOMBSTONES_COLLECTION/{id}`, only an `expire_at`: no name, no uid), and
preprocess deletes, unread and unclassified, an owned upload whose name or account has a
live one. A tombstone outlives every URL issued before it; Firestore's TTL policy on
`expire_at` (infra/terraform/firestore.tf) removes it later, and until then it is ignored
once expired. The price: an owner cannot reuse an erased name for that long (the page never
reuses names: each recording gets a fresh one).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from shared.accounts.ownership import owner_of
from shared.cloud import firestore
from shared.config import settings
from shared.names import result_key
from shared.pipeline import results

# Clock skew between the signer and Cloud Storage, on top of the URL's own lifetime.
SKEW_S = 60
_BATCH = 500  # Firestore's most writes in one batch


def _ref(tombstone_id: str) -> Any:
    return firestore.client().collection(settings().TOMBSTONES_COLLECTION).document(tombstone_id)


def _account_id(uid: str) -> str:
    return "account-" + hashlib.sha256(uid.encode()).hexdigest()


def _lay(ids: Iterable[str]) -> None:
    expire_at = results.now() + timedelta(seconds=settings().SIGNED_URL_EXPIRY_S + SKEW_S)
    ids = list(ids)
    for start in range(0, len(ids), _BATCH):
        batch = firestore.client().batch()
        for tombstone_id in ids[start : start + _BATCH]:
            batch.set(_ref(tombstone_id), {"expire_at": expire_at})
        batch.commit()


def lay_for_name(bucket: str, name: str) -> None:
    """Before erasing one upload: its name may not be re-created for a URL's lifetime."""
    _lay([result_key(bucket, name)])


def lay_for_account(uid: str) -> None:
    """Before erasing an account: no name under its prefix may be re-created meanwhile."""
    _lay([_account_id(uid)])


def erased(bucket: str, name: str) -> bool:
    """Whether an owned `name`, or its owner's account, was erased within a URL's lifetime."""
    uid = owner_of(name)
    if uid is None:
        return False
    refs = [_ref(result_key(bucket, name)), _ref(_account_id(uid))]
    now = results.now()
    return any(
        snapshot.exists and snapshot.get("expire_at") > now for snapshot in firestore.client().get_all(refs)
    )
