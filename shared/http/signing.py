"""V4 signed upload URLs, so browsers PUT straight into the uploads bucket.

On Google Cloud the URL is signed through IAM (signBlob) as SIGNING_SERVICE_ACCOUNT with the
function's default credentials; locally with the throwaway key in SIGNING_KEY_FILE, pointed at
the storage emulator so the browser PUTs to fake-gcs the same way.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import google.auth
import google.auth.transport.requests
from google.oauth2 import service_account

from shared.cloud.storage import client
from shared.config import settings

_refresh_lock = threading.Lock()


@dataclass(frozen=True)
class SignedUpload:
    url: str
    headers: dict[str, str]
    expires_at: datetime


@functools.cache
def _key_file_credentials(path: str) -> service_account.Credentials:
    return service_account.Credentials.from_service_account_file(path)


@functools.cache
def _default_credentials() -> Any:
    credentials, _ = google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])
    return credentials


def _signing_arguments() -> dict[str, Any]:
    config = settings()
    if config.SIGNING_KEY_FILE:
        arguments: dict[str, Any] = {"credentials": _key_file_credentials(config.SIGNING_KEY_FILE)}
        if config.STORAGE_EMULATOR_HOST:
            arguments["api_access_endpoint"] = config.STORAGE_EMULATOR_HOST
        return arguments
    credentials = _default_credentials()
    with _refresh_lock:
        if not credentials.valid:
            credentials.refresh(google.auth.transport.requests.Request())
    email = config.SIGNING_SERVICE_ACCOUNT or getattr(credentials, "service_account_email", "")
    return {"service_account_email": email, "access_token": credentials.token}


# Signed, so the PUT must send them: exactly `size` bytes, and create-only (Cloud Storage
# answers 412 to a write to a name that already has a live generation), so a URL writes once.
CREATE_ONLY = {"x-goog-if-generation-match": "0"}


def signed_upload(bucket: str, name: str, content_type: str, size: int) -> SignedUpload:
    """A PUT URL bound to this content type, exactly this many bytes, and a name not yet written."""
    expiry_s = settings().SIGNED_URL_EXPIRY_S
    signed_headers = {"x-goog-content-length-range": f"{size},{size}", **CREATE_ONLY}
    headers = {"Content-Type": content_type, **signed_headers}
    url = (
        client()
        .bucket(bucket)
        .blob(name)
        .generate_signed_url(
            version="v4",
            method="PUT",
            expiration=timedelta(seconds=expiry_s),
            content_type=content_type,
            headers=signed_headers,
            **_signing_arguments(),
        )
    )
    return SignedUpload(url, headers, datetime.now(UTC) + timedelta(seconds=expiry_s))
