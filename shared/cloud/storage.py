"""Reading (and, for an owner's erasure, deleting) uploads in Cloud Storage: one client per process."""

from __future__ import annotations

import functools

from google.api_core.exceptions import NotFound
from google.cloud import storage

from shared.config import settings
from shared.errors import InputError


@functools.cache
def client() -> storage.Client:
    # Honours STORAGE_EMULATOR_HOST (anonymous credentials) when it is set.
    return storage.Client(project=settings().GOOGLE_CLOUD_PROJECT)


def download_capped(bucket: str, name: str, generation: int, limit: int) -> bytes:
    """The bytes of one object generation, refusing to read more than `limit` bytes.

    The event's size is checked before this is called; the range request keeps a
    mislabelled or replaced object from being read into memory whole.
    """
    blob = client().bucket(bucket).blob(name, generation=generation)
    data = blob.download_as_bytes(end=limit, checksum=None)
    if len(data) > limit:
        raise InputError("too_large", f"The file is larger than the {limit / (1024 * 1024):g} MB limit.")
    return data


def delete_generation(bucket: str, name: str, generation: int) -> bool:
    """Delete one generation of an object; whether it was still there."""
    try:
        client().bucket(bucket).blob(name, generation=generation).delete()
    except NotFound:
        return False
    return True


def delete_generations(bucket: str, prefix: str, *, exact: bool) -> int:
    """Delete every generation of the object `prefix` (exact) or of every object under it; how many.

    Never writes: results_api may delete uploads but not create them (no trigger loops).
    """
    count = 0
    for blob in client().list_blobs(bucket, prefix=prefix, versions=True):
        if exact and blob.name != prefix:
            continue
        # False: deleted meanwhile (a concurrent erase, the lifecycle rule)
        count += delete_generation(bucket, blob.name, blob.generation)
    return count
