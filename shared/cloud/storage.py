"""Reading uploads from Cloud Storage: one client per process, created on first use."""

from __future__ import annotations

import functools

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
