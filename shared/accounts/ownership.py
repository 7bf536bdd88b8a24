"""Which upload names belong to whom: a signed-in visitor owns exactly `users/{uid}/<rest>`.

This is the one definition of a name's owner; POST /uploads, the pipeline and erasure all use
it. A uid owns a name only when both are well formed: the uid can be a path segment (not
empty, no `/`, no control character, not `.` or `..`) and the rest is non-empty with no empty,
`.` or `..` segment and no trailing `/`. So `users/{uid}/` alone, `users/{uid}/a//b` or
`users/{uid}/./x` belong to nobody and are never issued a URL; a uid such as `A/sub` is
refused when its token is verified, so it can never reach into `users/A/sub/`.

Names outside `users/` (uploaded with service credentials, e.g. by `coughcloud upload`)
have no owner: the pipeline handles them, the public API never serves them.
"""

from __future__ import annotations

import unicodedata

from shared.errors import InputError
from shared.names import validate_object_name

USERS_PREFIX = "users/"


class ForeignName(Exception):
    """A name under another user's prefix."""


def valid_uid(uid: object) -> bool:
    """Whether `uid` can be one path segment of `users/{uid}/…`."""
    return (
        isinstance(uid, str)
        and uid not in ("", ".", "..")
        and "/" not in uid
        and not any(unicodedata.category(ch) == "Cc" for ch in uid)
    )


def user_prefix(uid: str) -> str:
    if not valid_uid(uid):
        raise ValueError(f"{uid!r} cannot be a uid: it must be one non-empty path segment")
    return f"{USERS_PREFIX}{uid}/"


def _valid_rest(rest: str) -> bool:
    return all(segment not in ("", ".", "..") for segment in rest.split("/"))


def owner_of(name: str) -> str | None:
    """The uid that owns `name` (`users/{uid}/<rest>`, both well formed), else None."""
    if not name.startswith(USERS_PREFIX):
        return None
    uid, slash, rest = name[len(USERS_PREFIX) :].partition("/")
    return uid if slash and valid_uid(uid) and _valid_rest(rest) else None


def check_users_name(name: str) -> None:
    """Refuse a name under `users/` that nobody owns (the pipeline's check; InputError)."""
    if name.startswith(USERS_PREFIX) and owner_of(name) is None:
        raise InputError(
            "invalid_name",
            f"{name!r} is under {USERS_PREFIX!r} but names no file of an account: it needs "
            f"{USERS_PREFIX}<uid>/<name> with no empty, '.' or '..' segment and no trailing '/'.",
        )


def owned_name(uid: str, name: object) -> str:
    """The caller's full name for `name`: kept if already under their prefix, else prefixed.

    Raises InputError for an invalid name (before or after prefixing: the prefix counts
    towards the byte limit, and the result must be a name `uid` owns) and ForeignName for a
    name under `users/` that is not theirs.
    """
    name = validate_object_name(name)
    prefix = user_prefix(uid)
    if not name.startswith(prefix) and name.startswith(USERS_PREFIX):
        raise ForeignName(
            f"{name!r} is under {USERS_PREFIX!r} but not under your own prefix {prefix!r}; "
            "names there belong to other accounts."
        )
    full = name if name.startswith(prefix) else validate_object_name(prefix + name)
    if owner_of(full) != uid:
        raise InputError(
            "invalid_name",
            f"{name!r} names no file: it must not be empty after your prefix, end with '/', "
            "or have an empty, '.' or '..' segment.",
        )
    return full
