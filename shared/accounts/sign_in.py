"""Signing in as a visitor does, through the Firebase Auth REST API (Identity Toolkit).

For `coughcloud login` and the tests; the deployed functions never sign in. The same calls
reach Google (with the project's web API key) or the local Auth emulator, which serves the
API under `http://<FIREBASE_AUTH_EMULATOR_HOST>/<service host>/…` and takes any key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

TIMEOUT_S = 10.0


class SignInError(Exception):
    """The Auth service refused (its error code in the message), or could not be reached."""


@dataclass(frozen=True)
class Session:
    uid: str
    id_token: str
    refresh_token: str
    expires_at: datetime
    email: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "expires_at": self.expires_at.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        return cls(**{**data, "expires_at": datetime.fromisoformat(data["expires_at"])})


@dataclass(frozen=True)
class AuthService:
    """Where the Auth REST API is: Google's hosts, or the emulator's `host:port`."""

    api_key: str
    emulator_host: str = ""

    def _url(self, service_host: str, path: str) -> str:
        base = (
            f"http://{self.emulator_host}/{service_host}" if self.emulator_host else f"https://{service_host}"
        )
        return f"{base}/v1/{path}"

    def _post(self, service_host: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            reply = requests.post(
                self._url(service_host, path), params={"key": self.api_key}, timeout=TIMEOUT_S, **kwargs
            )
        except requests.RequestException as error:
            raise SignInError(f"the Auth service could not be reached: {error}") from None
        body = reply.json() if reply.headers.get("Content-Type", "").startswith("application/json") else {}
        if reply.status_code != 200:
            message = (body.get("error") or {}).get("message") or reply.text[:200]
            raise SignInError(f"the Auth service refused: {message}")
        return body

    def _session(self, body: dict[str, Any], email: str | None) -> Session:
        expires_in = int(body.get("expiresIn") or body.get("expires_in") or 3600)
        return Session(
            uid=body.get("localId") or body["user_id"],
            id_token=body.get("idToken") or body["id_token"],
            refresh_token=body.get("refreshToken") or body["refresh_token"],
            expires_at=datetime.now(UTC) + timedelta(seconds=expires_in),
            email=email,
        )

    def sign_up_anonymously(self) -> Session:
        return self._session(
            self._post("identitytoolkit.googleapis.com", "accounts:signUp", json={"returnSecureToken": True}),
            None,
        )

    def sign_in_with_email(self, email: str, password: str) -> Session:
        """Sign in; an address the service does not know yet gets an account (as the page offers)."""
        fields = {"email": email, "password": password, "returnSecureToken": True}
        try:
            body = self._post("identitytoolkit.googleapis.com", "accounts:signInWithPassword", json=fields)
        except SignInError as error:
            if "EMAIL_NOT_FOUND" not in str(error) and "INVALID_LOGIN_CREDENTIALS" not in str(error):
                raise
            try:
                body = self._post("identitytoolkit.googleapis.com", "accounts:signUp", json=fields)
            except SignInError as sign_up_error:
                if "EMAIL_EXISTS" in str(sign_up_error):
                    raise error from None  # the address exists: the password was wrong
                raise
        return self._session(body, email)

    def refresh(self, session: Session) -> Session:
        """A fresh ID token for the same account (ID tokens last an hour)."""
        form = {"grant_type": "refresh_token", "refresh_token": session.refresh_token}
        return self._session(self._post("securetoken.googleapis.com", "token", data=form), session.email)
