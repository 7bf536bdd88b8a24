"""Who is calling: the Firebase ID token of `Authorization: Bearer <token>`, verified.

`verify_id_token(..., check_revoked=True)` also looks the user up, so a revoked token, a
disabled user and a user the Auth service does not know are refused. That lookup is what
refuses a hand-made unsigned (`alg: none`) token when FIREBASE_AUTH_EMULATOR_HOST is set:
firebase-admin skips the signature check against the emulator (docs/design/emulators.md).
Against the emulator firebase-admin does not check `exp` either (it skips the whole
signature verification, which is where that happens), so the expiry is checked here too:
an expired token is refused locally exactly as on Google Cloud.
firebase_admin.auth is imported on first use, keeping it out of results_api's cold start.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

from shared.config import settings
from shared.errors import TransientError

_APP_NAME = "coughcloud-auth"
_EXPIRED = "The ID token has expired; get a fresh one (the Firebase SDK refreshes it)."
_init_lock = threading.Lock()


class Unauthenticated(Exception):
    """No usable identity; the message says why, for the 401 reply."""


def _app() -> Any:
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

    _app()
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


def verified_uid(token: str) -> str:
    """The uid of a valid, unrevoked ID token of an existing, enabled user; else Unauthenticated.

    A failure to reach the Auth service (or fetch Google's signing keys) is not the
    caller's fault: it propagates, and the API answers 503.
    """
    auth = auth_module()
    try:
        claims = auth.verify_id_token(token, app=_app(), check_revoked=True)
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
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or expires <= time.time():
        raise Unauthenticated(_EXPIRED)
    return str(claims["uid"])


def caller_uid(authorization: str | None) -> str:
    """The verified uid behind an Authorization header value."""
    return verified_uid(bearer_token(authorization))


def delete_account(uid: str) -> None:
    """Revoke the user's tokens (a request in flight with one is refused), then delete the user."""
    auth = auth_module()
    try:
        auth.revoke_refresh_tokens(uid, app=_app())
        auth.delete_user(uid, app=_app())
    except auth.UserNotFoundError:
        pass  # already gone: erasure is idempotent
