"""`coughcloud login`: sign in as a visitor (anonymous by default, or --email/--password).

Against the local stack it signs in on its Auth emulator (FIREBASE_AUTH_EMULATOR_HOST, key
`fake-api-key`); against Google Cloud with the project's web API key (FIREBASE_API_KEY,
`terraform output -raw web_api_key`). The session goes to `login.json` beside the target's
env file (`.local/login.json` by default; mode 600);
`coughcloud result` then reads through the API as that visitor, refreshing the ID token
when it has expired.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from coughcloud.commands.client import add_target_argument, configure_target
from local_stack.stack_env import DEFAULT_STACK_ENV
from shared.accounts.sign_in import AuthService, Session, SignInError
from shared.config import Settings

REFRESH_MARGIN = timedelta(minutes=1)


def register(subparsers: argparse._SubParsersAction) -> None:
    login = subparsers.add_parser("login", help="sign in as a visitor; `result` then reads as them")
    login.add_argument("--email", help="sign in (or sign up) with this address instead of anonymously")
    login.add_argument("--password", help="the password for --email (default: $COUGHCLOUD_PASSWORD)")
    add_target_argument(login)
    login.set_defaults(func=run_login)


def auth_service(config: Settings) -> AuthService:
    if not config.FIREBASE_API_KEY:
        raise SignInError(
            "FIREBASE_API_KEY is not set: start the stack (`make run`), or on Google Cloud export "
            "FIREBASE_API_KEY=$(terraform output -raw web_api_key)"
        )
    return AuthService(config.FIREBASE_API_KEY, config.FIREBASE_AUTH_EMULATOR_HOST)


def _target(config: Settings) -> str:
    """Which Auth service a saved session belongs to (a new local stack's emulator knows no one)."""
    return config.FIREBASE_AUTH_EMULATOR_HOST or f"{config.GOOGLE_CLOUD_PROJECT} (Google Cloud)"


def login_file(env_file: Path | None) -> Path:
    """Where the session is kept: beside the target's env file (a test stack's own, say)."""
    return (env_file or DEFAULT_STACK_ENV).parent / "login.json"


def save(config: Settings, session: Session, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds a refresh token
    with os.fdopen(fd, "w") as file:
        json.dump({"target": _target(config), "session": session.to_dict()}, file)
    os.replace(tmp, path)


def current_session(config: Settings, path: Path) -> Session | None:
    """The saved session for this target, its ID token refreshed if (nearly) expired; None if none."""
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if saved.get("target") != _target(config):
        return None
    session = Session.from_dict(saved["session"])
    if session.expires_at - REFRESH_MARGIN <= datetime.now(UTC):
        session = auth_service(config).refresh(session)
        save(config, session, path)
    return session


def run_login(args: argparse.Namespace) -> int:
    config = configure_target(args.env)
    password = args.password or os.environ.get("COUGHCLOUD_PASSWORD")
    if args.email and not password:
        print("coughcloud login: --email needs --password (or COUGHCLOUD_PASSWORD)", file=sys.stderr)
        return 2
    try:
        service = auth_service(config)
        session = (
            service.sign_in_with_email(args.email, password) if args.email else service.sign_up_anonymously()
        )
    except SignInError as error:
        print(f"coughcloud login: {error}", file=sys.stderr)
        return 1
    save(config, session, login_file(args.env))
    who = session.email or "an anonymous visitor"
    print(json.dumps({"uid": session.uid, "email": session.email, "target": _target(config)}))
    print(f"signed in as {who}; your uploads are users/{session.uid}/…", file=sys.stderr)
    return 0
