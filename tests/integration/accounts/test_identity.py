"""shared/accounts/identity.py: what refuses a token, with and without the Auth emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import REPO_ROOT
from tests.accounts_support import new_visitor, unsigned_token
from tests.pipeline_support import write_signing_key

_VERIFY = """
import json, sys
from shared.accounts.identity import Unauthenticated, caller_uid
out = []
for token in json.loads(sys.argv[1]):
    try:
        out.append(["accepted", caller_uid("Bearer " + token, check_revoked=sys.argv[2] == "1")])
    except Unauthenticated as error:
        out.append(["refused", str(error)])
print(json.dumps(out))
"""


def _verify_elsewhere(tokens: list[str], env: dict[str, str], check_revoked: bool) -> list[list[str]]:
    """caller_uid in a fresh process with exactly `env`'s Auth settings (firebase-admin reads them once)."""
    reply = subprocess.run(
        [sys.executable, "-c", _VERIFY, json.dumps(tokens), "1" if check_revoked else "0"],
        env={**env, "PYTHONPATH": str(REPO_ROOT)},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert reply.returncode == 0, reply.stderr
    return json.loads(reply.stdout)


@pytest.mark.integration
def test_without_the_emulator_variable_emulator_tokens_are_refused(
    auth_emulator: dict[str, str], tmp_path: Path
) -> None:
    """What a deployed function does: no FIREBASE_AUTH_EMULATOR_HOST, so unsigned tokens fail
    on their missing key id before any network call, real emulator tokens included. (A
    throwaway service-account key stands in for the function's own credentials.)"""
    visitor = new_visitor()
    tokens = [visitor.id_token, unsigned_token(visitor.uid), unsigned_token("made-up")]
    deployed = {k: v for k, v in os.environ.items() if k != "FIREBASE_AUTH_EMULATOR_HOST"}
    deployed["GOOGLE_APPLICATION_CREDENTIALS"] = str(write_signing_key(tmp_path / "sa.json"))
    for check_revoked in (False, True):  # a read (no user lookup) and a write
        outcomes = _verify_elsewhere(tokens, deployed, check_revoked)
        assert [o[0] for o in outcomes] == ["refused"] * 3
        assert all('no "kid" claim' in o[1] for o in outcomes)
    # The same real token with the variable set (the local stack) is accepted: the test is not
    # vacuous. (There a read looks the user up too: a forged token of a made-up uid is refused.)
    local = dict(os.environ)
    assert _verify_elsewhere([visitor.id_token, tokens[2]], local, False)[0] == ["accepted", visitor.uid]
    assert _verify_elsewhere([tokens[2]], local, False)[0][0] == "refused"
