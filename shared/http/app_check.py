"""Firebase App Check on results_api: only the page, running in a real browser on its own
origin, gets tokens (reCAPTCHA Enterprise attests it), so scripts replaying a visitor's ID
token are refused. Off unless APP_CHECK_REQUIRED is 1 (Terraform sets it when
var.app_check_site_key is given). It cannot run locally: reCAPTCHA Enterprise attests only
the page's registered domains, and no emulator issues App Check tokens.
"""

from __future__ import annotations

from shared.config import settings

HEADER = "X-Firebase-AppCheck"


class Unattested(Exception):
    """The request carries no valid App Check token while one is required."""


def check(token: str | None) -> None:
    """Return when App Check is off or `token` is valid; else raise Unattested."""
    if settings().APP_CHECK_REQUIRED != 1:
        return
    if not token:
        raise Unattested(f"This API answers its page only: the request has no {HEADER} header.")
    from firebase_admin import app_check

    from shared.accounts import identity

    try:
        app_check.verify_token(token, app=identity.firebase_app())  # the app identity verifies ID tokens with
    except ValueError as error:  # firebase-admin reports every invalid token as a ValueError
        raise Unattested(f"The App Check token was refused: {error}") from None
