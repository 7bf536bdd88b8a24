"""Erasing an owner's data on request: one upload, or the whole account.

Order matters (see shared/pipeline/results.py): a tombstone first (shared/accounts/
tombstones.py: a signed URL replayed afterwards re-creates nothing that is classified), then
the object's generations, then the result document, then its markers, so a pipeline stage
still working on the upload can neither keep nor re-create anything of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared import logs
from shared.accounts import identity, tombstones
from shared.accounts.ownership import user_prefix
from shared.cloud import storage
from shared.config import settings
from shared.names import result_key
from shared.pipeline import results


def erase_upload(name: str) -> bool:
    """Erase every generation of `name` and its result; whether there was anything to erase."""
    bucket = settings().UPLOAD_BUCKET
    tombstones.lay_for_name(bucket, name)
    generations = storage.delete_generations(bucket, name, exact=True)
    key = result_key(bucket, name)
    had_result = results.erase(key)
    if generations or had_result:
        logs.log_upload_erased(key, generations, had_result)
    return bool(generations or had_result)


@dataclass(frozen=True)
class Erased:
    objects: int
    results: int


def _erase_owned(uid: str) -> Erased:
    """Every object under the uid's prefix, and every result it owns or that is named under it."""
    prefix = user_prefix(uid)
    objects = storage.delete_generations(settings().UPLOAD_BUCKET, prefix, exact=False)
    keys = sorted({*results.keys_owned_by(uid), *results.keys_named_under(prefix)})
    for key in keys:
        results.erase(key)
    return Erased(objects, len(keys))


def erase_account(uid: str) -> Erased:
    """Erase all of `uid`'s uploads and results, then the account (its tokens revoked first).

    The account's tombstone goes first: from then on an upload re-created under its prefix by
    a replayed URL is deleted by preprocess, never classified.

    The data goes before the account, so a failure half-way leaves an account that can
    still sign in and ask again. The second sweep, after the revocation (from then on no new
    upload URL can be issued), takes what finished arriving meanwhile.
    """
    tombstones.lay_for_account(uid)
    first = _erase_owned(uid)
    identity.delete_account(uid)
    second = _erase_owned(uid)
    erased = Erased(first.objects + second.objects, first.results + second.results)
    logs.log_account_erased(erased.objects, erased.results)
    return erased
