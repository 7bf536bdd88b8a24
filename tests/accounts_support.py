"""Visitors for the tests: real accounts on the Auth emulator, and hand-made forged tokens."""

from __future__ import annotations

import base64
import json
import os
import time

from shared.accounts.sign_in import AuthService, Session
from shared.config import settings


def auth_service(env: dict[str, str] | None = None) -> AuthService:
    """The Auth emulator of `env` (a stack's), else the one this process's variables name."""
    source = env if env is not None else os.environ
    return AuthService(source["FIREBASE_API_KEY"], source["FIREBASE_AUTH_EMULATOR_HOST"])


def new_visitor(env: dict[str, str] | None = None) -> Session:
    """A fresh anonymous account, as the page makes on a first visit."""
    return auth_service(env).sign_up_anonymously()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(part: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


def unsigned_token(uid: str, project: str | None = None, expires_in: int = 3600) -> str:
    """An `alg: none` ID token for `uid`, shaped like the emulator's: anyone can make one."""
    project = project or settings().GOOGLE_CLOUD_PROJECT
    now = int(time.time())
    claims = {
        "iss": f"https://securetoken.google.com/{project}",
        "aud": project,
        "sub": uid,
        "user_id": uid,
        "iat": now - 10,
        "auth_time": now - 10,
        "exp": now + expires_in,
        "firebase": {"identities": {}, "sign_in_provider": "anonymous"},
    }
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
