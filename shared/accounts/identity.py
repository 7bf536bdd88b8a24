"""Who is calling: the Firebase ID token of `Authorization: Bearer <token>`, verified.

Revocation is looked up where it protects something, not on every call. With
`check_revoked=True`, `verify_id_token` also looks the user up in the Auth service (one more
backend call), so a revoked token, a disabled user and a deleted user are refused; the API
asks for it on every call that creates, changes or erases (POST /uploads, feedback,
DELETE /results, DELETE /me). A read (GET /results, the page's polls) checks the signature,
audience, issuer and expiry only: a token revoked less than its lifetime (one hour) ago can
still read its owner's own results, never change or erase anything.
Against the Auth emulator every call looks the user up: firebase-admin skips the signature
check there (emulator tokens are unsigned), so the lookup is what refuses a hand-made
`alg: none` token. It skips `exp` too (that check is part of the signature verification), so
the expiry is checked here as well: an expired token is refused locally exactly as on Google
Cloud. A uid that cannot be one path segment (shared/accounts/ownership.py) is refused: custom
tokens or another identity provider could mint one such as `A/sub`.
firebase_admin.auth is imported on first use, keeping it out of results_api's cold start.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

from shared.accounts.ownership import valid_uid
from shared.config import settings
from shared.errors import TransientError
from shared.faults import is_transient

_APP_NAME = "coughcloud-auth"
_EXPIRED = "The ID token has expired; get a fresh one (the Firebase SDK refreshes it)."
_init_lock = threading.Lock()


class Unauthenticated(Exception):
    """No usable identity; the message says why, for the 401 reply."""


def firebase_app() -> Any:
    with _init_lock:
        return _make_app()


@functools.cache
def _make_app() -> Any:
    """The Firebase app the Auth calls use: application default credentials, our project.

    Against the emulator firebase-admin uses its own emulator credentials instead.
    """
    import firebase_admin
    from firebase_admin import credentials

    options = {"projectId": settings().GOOGLE_CLOUD_PROJECT}
    return firebase_admin.initialize_app(credentials.ApplicationDefault(), options, name=_APP_NAME)


def auth_module() -> Any:
    """`firebase_admin.auth`, imported when first needed, with our app initialised."""
    from firebase_admin import auth

    firebase_app()
    return auth


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header."""
    if not authorization or not authorization.strip():
        raise Unauthenticated("Sign in first: send 'Authorization: Bearer <Firebase ID token>'.")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise Unauthenticated(f"The Authorization header must use the Bearer scheme, not {scheme!r}.")
    if not token.strip():
        raise Unauthenticated("The Authorization header has no token after 'Bearer'.")
    return token.strip()


def verified_uid(token: str, *, check_revoked: bool) -> str:
    """The uid of a valid ID token (with `check_revoked`: unrevoked, of an existing, enabled
    user); else Unauthenticated.

    A failure to reach the Auth service (or fetch Google's signing keys) is not the
    caller's fault: it propagates, and the API answers 503. Any other failure inside the
    verification (a claim of the wrong type, say) is the token's: Unauthenticated.
    """
    auth = auth_module()
    look_up = check_revoked or bool(settings().FIREBASE_AUTH_EMULATOR_HOST)
    try:
        claims = auth.verify_id_token(token, app=firebase_app(), check_revoked=look_up)
    except auth.CertificateFetchError as error:  # Google's signing keys could not be fetched
        raise TransientError(f"could not fetch the token signing keys: {error}") from error
    except auth.ExpiredIdTokenError:
        raise Unauthenticated(_EXPIRED) from None
    except auth.RevokedIdTokenError:
        raise Unauthenticated("The ID token has been revoked; sign in again.") from None
    except auth.UserDisabledError:
        raise Unauthenticated("This account is disabled.") from None
    except auth.UserNotFoundError:
        raise Unauthenticated("The ID token names an account that does not exist.") from None
    except auth.InvalidIdTokenError as error:
        raise Unauthenticated(f"The ID token is not valid: {error}") from None
    except ValueError as error:  # not a JWT at all, or an unparsable one
        raise Unauthenticated(f"The ID token is malformed: {error}") from None
    except Exception as error:  # e.g. TypeError on a non-numeric `iat`, inside firebase-admin
        if is_transient(error):
            raise
        raise Unauthenticated("The ID token could not be verified.") from None
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires <= time.time():
        raise Unauthenticated(_EXPIRED)
    uid = claims.get("uid")
    if not valid_uid(uid):
        raise Unauthenticated("The ID token's account id cannot name a folder (empty, '/', control).")
    return uid


def caller_uid(authorization: str | None, *, check_revoked: bool) -> str:
    """The verified uid behind an Authorization header value."""
    return verified_uid(bearer_token(authorization), check_revoked=check_revoked)


def delete_account(uid: str) -> None:
    """Revoke the user's tokens (a request in flight with one is refused), then delete the user."""
    auth = auth_module()
    try:
        auth.revoke_refresh_tokens(uid, app=firebase_app())
        auth.delete_user(uid, app=firebase_app())
    except auth.UserNotFoundError:
        pass  # already gone: erasure is idempotent
