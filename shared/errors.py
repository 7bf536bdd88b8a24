"""Typed errors: every failure the pipeline records carries one of these codes.

`InputError` is permanent (bad input: record it, acknowledge the event, never retry).
`TransientError` is a fault worth retrying (a service unavailable): it propagates so
the platform redelivers the event.
"""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal[
    "invalid_name",
    "too_large",
    "unsupported_format",
    "corrupt_audio",
    "empty_audio",
    "too_short",
    "too_long",
    "silent_audio",
    "model_error",
    "internal",
]

ERROR_CODES: tuple[str, ...] = ErrorCode.__args__  # type: ignore[attr-defined]


class CoughCloudError(Exception):
    """Base class: a code from the contract and a message a person can read."""

    code: ErrorCode = "internal"
    permanent: bool = True

    def __init__(self, code: ErrorCode, message: str) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class InputError(CoughCloudError):
    """The upload itself is unusable; retrying cannot help."""


class ModelError(CoughCloudError):
    """The model cannot serve these features (missing, broken, or a different feature spec)."""

    def __init__(self, message: str) -> None:
        super().__init__("model_error", message)


class TransientError(Exception):
    """A dependency failed in a way worth retrying; raised so the platform redelivers."""
