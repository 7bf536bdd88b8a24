"""shared/http/signing.py on Google Cloud: upload URLs signed through IAM (credentials and signing faked)."""

from __future__ import annotations

from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from shared.config import settings
from shared.http import signing


def test_on_google_cloud_urls_are_signed_through_iam_as_the_configured_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class DefaultCredentials:
        valid, token, service_account_email = False, None, "runtime@p.iam.gserviceaccount.com"

        def refresh(self, request: object) -> None:
            self.valid, self.token = True, "access-token"

    calls: list[dict[str, Any]] = []

    def generate_signed_url(blob: Any, **kwargs: Any) -> str:
        calls.append({"blob": blob.name, **kwargs})
        return "https://storage.googleapis.com/signed"

    monkeypatch.setenv("SIGNING_KEY_FILE", "")
    monkeypatch.setenv("SIGNING_SERVICE_ACCOUNT", "uploader@p.iam.gserviceaccount.com")
    settings.cache_clear()
    monkeypatch.setattr(signing, "_default_credentials", DefaultCredentials)
    monkeypatch.setattr(storage.Blob, "generate_signed_url", generate_signed_url)
    # No emulator and no real project: a client that never needs credentials (signing is faked).
    monkeypatch.setattr(
        signing, "client", lambda: storage.Client(project="p", credentials=AnonymousCredentials())
    )

    signed = signing.signed_upload("bucket", "a/b.wav", "audio/wav", 123)
    assert signed.url == "https://storage.googleapis.com/signed"
    [call] = calls
    assert call["blob"] == "a/b.wav"
    assert (call["version"], call["method"], call["content_type"]) == ("v4", "PUT", "audio/wav")
    assert call["headers"] == {"x-goog-content-length-range": "123,123", "x-goog-if-generation-match": "0"}
    assert call["expiration"].total_seconds() == settings().SIGNED_URL_EXPIRY_S
    assert call["service_account_email"] == "uploader@p.iam.gserviceaccount.com"
    assert call["access_token"] == "access-token"
    assert "credentials" not in call and "api_access_endpoint" not in call
