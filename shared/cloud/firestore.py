"""The Firestore client: one per process, made on first use (results_api: on its first read)."""

from __future__ import annotations

import functools
from typing import Any

from google.cloud import firestore

from shared.config import settings


@functools.cache
def client() -> firestore.Client:
    # Honours FIRESTORE_EMULATOR_HOST (anonymous credentials) when it is set.
    return firestore.Client(project=settings().GOOGLE_CLOUD_PROJECT)


def unchanged_since(update_time: Any) -> Any:
    """The option of an update that applies only if the document was not written since
    `update_time` (FailedPrecondition otherwise, NotFound once it is deleted).

    The emulator ignores update-time preconditions, and with them the existence check that
    every update otherwise carries: there, a guarded update of a deleted document creates it,
    so an erased result would come back as a fragment. On the emulator the update therefore
    keeps its default `exists` precondition (None); concurrent writers go unguarded there
    either way (docs/design/emulators.md).
    """
    if settings().FIRESTORE_EMULATOR_HOST:
        return None
    return client().write_option(last_update_time=update_time)
