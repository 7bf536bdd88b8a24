"""shared/accounts/sign_in.py and `coughcloud login`'s session file, on the real Auth emulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from coughcloud.commands.login import current_session, login_file, save
from shared.accounts.identity import caller_uid
from shared.accounts.sign_in import AuthService, SignInError
from shared.config import settings
from tests.accounts_support import auth_service

pytestmark = pytest.mark.integration


def test_email_sign_up_then_sign_in_is_the_same_account(auth_emulator: dict[str, str]) -> None:
    service = auth_service()
    first = service.sign_in_with_email("pat@example.com", "correct horse")
    again = service.sign_in_with_email("pat@example.com", "correct horse")
    assert first.uid == again.uid and again.email == "pat@example.com"
    assert caller_uid(f"Bearer {again.id_token}", check_revoked=True) == first.uid
    with pytest.raises(SignInError, match="refused"):
        service.sign_in_with_email("pat@example.com", "wrong password")


def test_an_unreachable_service_is_a_clear_error(auth_emulator: dict[str, str]) -> None:
    with pytest.raises(SignInError, match="could not be reached"):
        AuthService("fake-api-key", "127.0.0.1:9").sign_up_anonymously()


def test_a_saved_session_is_refreshed_when_expired_and_ignored_for_another_target(
    auth_emulator: dict[str, str], tmp_path: Path
) -> None:
    config = settings()
    path = login_file(tmp_path / "stack.env")
    visitor = auth_service().sign_up_anonymously()
    expired = type(visitor)(**{**visitor.__dict__, "expires_at": datetime.now(UTC) - timedelta(minutes=5)})
    save(config, expired, path)
    assert path.stat().st_mode & 0o777 == 0o600
    session = current_session(config, path)
    assert session is not None and session.uid == visitor.uid
    assert session.expires_at > datetime.now(UTC) + timedelta(minutes=30)
    assert caller_uid(f"Bearer {session.id_token}", check_revoked=True) == visitor.uid
    assert json.loads(path.read_text())["session"]["id_token"] == session.id_token  # the refresh is kept
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "target": "127.0.0.1:1"}))  # a session of another stack
    assert current_session(config, path) is None
