"""The API's refusals, and the one table that gives each kind of error its HTTP status.

Validation code raises what went wrong (an error type, never a status); `handle()` answers
with the status `STATUSES` maps that type to. Anything not in the table is unexpected:
`handle()` answers 503 when it is transient, else a JSON 500 with a trace id it logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.accounts.identity import Unauthenticated
from shared.accounts.ownership import ForeignName
from shared.errors import InputError
from shared.http.app_check import Unattested


class ApiError(Exception):
    """A refusal: `code` (from the API's contract) and a message a person can read."""

    code = "bad_request"

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(ApiError):
    code = "bad_request"


class NotFound(ApiError):
    code = "not_found"


class MethodNotAllowed(ApiError):
    code = "method_not_allowed"


class BodyTooLarge(ApiError):
    code = "too_large"


class UnsupportedType(ApiError):
    code = "unsupported_format"


class HeadersTooLarge(ApiError):
    code = "headers_too_large"


# Each kind of error's status, once. InputError is a bad name or a file over the size limit:
# 400 (the request itself is small). ForeignName only reaches here from POST /uploads; a
# read of another account's name is answered as not found (the reply never says it exists).
STATUSES: dict[type[Exception], int] = {
    BadRequest: 400,
    InputError: 400,
    Unauthenticated: 401,
    Unattested: 401,
    ForeignName: 403,
    NotFound: 404,
    MethodNotAllowed: 405,
    BodyTooLarge: 413,
    UnsupportedType: 415,
    HeadersTooLarge: 431,
}


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def refusal(error: Exception) -> Refusal | None:
    """The reply to `error` if the table knows its kind, else None (an unexpected error)."""
    status = next((status for kind, status in STATUSES.items() if isinstance(error, kind)), None)
    if status is None:
        return None
    if isinstance(error, ApiError):
        return Refusal(status, error.code, error.message, error.headers)
    if isinstance(error, InputError):
        return Refusal(status, error.code, error.message)
    if isinstance(error, Unattested):
        return Refusal(status, "unattested", str(error))
    if isinstance(error, Unauthenticated):
        return Refusal(status, "unauthenticated", str(error), {"WWW-Authenticate": "Bearer"})
    return Refusal(status, "forbidden", str(error))
