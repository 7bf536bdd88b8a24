"""Which exceptions are transient (worth a redelivery) rather than a bug or bad input."""

from __future__ import annotations

import concurrent.futures

import grpc
import requests
from firebase_admin import exceptions as firebase_exceptions
from google.api_core import exceptions as api_exceptions
from google.auth import exceptions as auth_exceptions

from shared.errors import TransientError

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    TransientError,
    api_exceptions.ServiceUnavailable,
    api_exceptions.DeadlineExceeded,
    api_exceptions.InternalServerError,
    api_exceptions.TooManyRequests,
    api_exceptions.Aborted,
    api_exceptions.GatewayTimeout,
    api_exceptions.BadGateway,
    api_exceptions.RetryError,
    auth_exceptions.TransportError,
    requests.ConnectionError,
    requests.Timeout,
    concurrent.futures.TimeoutError,
    firebase_exceptions.UnavailableError,  # the Auth service, through firebase-admin
    firebase_exceptions.DeadlineExceededError,
    ConnectionError,
    TimeoutError,
)
_TRANSIENT_GRPC_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
    }
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, _TRANSIENT_TYPES):
        return True
    if isinstance(error, grpc.RpcError) and callable(getattr(error, "code", None)):
        return error.code() in _TRANSIENT_GRPC_CODES
    return False
