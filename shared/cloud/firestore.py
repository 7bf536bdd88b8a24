"""The Firestore client: one per process, made on first use (results_api: on its first read)."""

from __future__ import annotations

import functools

from google.cloud import firestore

from shared.config import settings


@functools.cache
def client() -> firestore.Client:
    # Honours FIRESTORE_EMULATOR_HOST (anonymous credentials) when it is set.
    return firestore.Client(project=settings().GOOGLE_CLOUD_PROJECT)
