"""Which upload names belong to whom: a signed-in visitor owns exactly `users/{uid}/…`.

Names outside `users/` (uploaded with service credentials, e.g. by `coughcloud upload`)
have no owner: the pipeline handles them, the public API never serves them.
"""

from __future__ import annotations

from shared.names import validate_object_name

USERS_PREFIX = "users/"


class ForeignName(Exception):
    """A name under another user's prefix."""


def user_prefix(uid: str) -> str:
    return f"{USERS_PREFIX}{uid}/"


def owner_of(name: str) -> str | None:
    """The uid in a `users/{uid}/<rest>` name (rest non-empty), else None."""
    if not name.startswith(USERS_PREFIX):
        return None
    uid, slash, rest = name[len(USERS_PREFIX) :].partition("/")
    return uid if uid and slash and rest else None


def owned_name(uid: str, name: str) -> str:
    """The caller's full name for `name`: kept if already under their prefix, else prefixed.

    Raises InputError for an invalid name (before or after prefixing: the prefix counts
    towards the byte limit) and ForeignName for a name under `users/` that is not theirs.
    """
    validate_object_name(name)
    if name.startswith(user_prefix(uid)):
        return name
    if name.startswith(USERS_PREFIX):
        raise ForeignName(
            f"{name!r} is under {USERS_PREFIX!r} but not under your own prefix {user_prefix(uid)!r}; "
            "names there belong to other accounts."
        )
    return validate_object_name(user_prefix(uid) + name)
