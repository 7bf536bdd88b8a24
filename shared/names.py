"""Object-name rules and the result key (docs/design/contracts.md, "Object names")."""

from __future__ import annotations

import hashlib
import unicodedata

from shared.errors import InputError

MAX_NAME_BYTES = 512


def validate_object_name(name: object) -> str:
    """Return `name` if it is a valid upload name, else raise InputError('invalid_name').

    Valid: 1–512 bytes of UTF-8, no control characters, no `..` segment, no leading `/`.
    """
    if not isinstance(name, str) or name == "":
        raise InputError("invalid_name", "The file name is empty.")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise InputError("invalid_name", "The file name is not valid UTF-8.") from None
    if size > MAX_NAME_BYTES:
        raise InputError(
            "invalid_name", f"The file name is {size} bytes long; the limit is {MAX_NAME_BYTES}."
        )
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise InputError("invalid_name", "The file name contains control characters.")
    if name.startswith("/"):
        raise InputError("invalid_name", "The file name must not start with '/'.")
    if ".." in name.split("/"):
        raise InputError("invalid_name", "The file name must not contain a '..' segment.")
    return name


def result_key(bucket: str, name: str) -> str:
    """The Firestore document id for an upload: sha256("<bucket>/<name>") in hex."""
    return hashlib.sha256(f"{bucket}/{name}".encode()).hexdigest()
