"""Accounts on the running local stack (real Auth emulator): owner-only reads, 401 without or
with a forged token, 404 for a stranger, erasure of one upload and of a whole account."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from google.cloud import storage

from shared.accounts.sign_in import Session
from shared.names import result_key
from tests.accounts_support import bearer, new_visitor, unsigned_token
from tests.conftest import TEST_STACK
from tests.fixtures.audio_files import sample_file
from tests.integration.support import coughcloud, get_result, unique_name, wait_for_result
from tests.integration.visitors import api as _api
from tests.integration.visitors import leftovers as _leftovers
from tests.integration.visitors import markers as _markers
from tests.integration.visitors import upload_as as _upload_as
from tests.integration.visitors import wait_as as _wait_as

pytestmark = pytest.mark.integration


@pytest.fixture
def alice(env: dict[str, str]) -> Session:
    return new_visitor(env)


@pytest.fixture
def bob(env: dict[str, str]) -> Session:
    return new_visitor(env)


def test_only_the_owner_reads_a_result(env, alice, bob, results_tap) -> None:
    short = unique_name("mine")
    signed = _upload_as(env, alice, short, sample_file("wav_pcm16", seed=11))
    full = signed["name"]
    assert full == f"users/{alice.uid}/{short}"
    document = _wait_as(env, alice, short)
    assert document["status"] == "done" and document["owner"] == alice.uid and document["name"] == full
    assert _api(env, "GET", "/results", alice, params={"name": full}).json()["key"] == signed["key"]
    [message] = results_tap.wait_for(1, lambda m: m.attributes.get("key") == signed["key"])
    assert message.attributes["owner"] == alice.uid

    for name in (full, short):
        stranger = _api(env, "GET", "/results", bob, params={"name": name})
        assert (stranger.status_code, stranger.json()["error"]["code"]) == (404, "not_found")
        anonymous = _api(env, "GET", "/results", None, params={"name": name})
        assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "unauthenticated")
        assert anonymous.headers["Access-Control-Allow-Origin"] == env["FRONTEND_URL"]
        forged = _api(
            env, "GET", "/results", None, params={"name": name}, headers=bearer(unsigned_token("x"))
        )
        assert forged.status_code == 401

    listed = _api(env, "GET", "/results", alice).json()["results"]
    assert [r["name"] for r in listed] == [full]
    assert _api(env, "GET", "/results", bob).json() == {"results": [], "next_page_token": None}


def test_a_stranger_can_neither_overwrite_nor_delete(env, alice, bob) -> None:
    short = unique_name("guarded")
    full = _upload_as(env, alice, short, sample_file("wav_pcm16", seed=12))["name"]
    _wait_as(env, alice, short)
    overwrite = _api(
        env, "POST", "/uploads", bob, json={"name": full, "content_type": "audio/wav", "size": 9}
    )
    assert (overwrite.status_code, overwrite.json()["error"]["code"]) == (403, "forbidden")
    assert "url" not in overwrite.json()
    # Bob's own upload of the same short name lands under his prefix, not over Alice's.
    assert _upload_as(env, bob, short, b"RIFF....")["name"] == f"users/{bob.uid}/{short}"
    delete = _api(env, "DELETE", "/results", bob, params={"name": full})
    assert delete.status_code == 404
    assert _api(env, "GET", "/results", alice, params={"name": short}).status_code == 200


def test_delete_erases_the_object_and_the_result(env, alice) -> None:
    short = unique_name("erase")
    signed = _upload_as(env, alice, short, sample_file("wav_pcm16", seed=13))
    _wait_as(env, alice, short)
    _upload_as(env, alice, short, sample_file("wav_pcm16", seed=14))  # a second generation
    assert _api(env, "DELETE", "/results", alice, params={"name": short}).status_code == 204
    time.sleep(2)  # the second generation's event may still be in the pipeline: nothing comes back
    assert _leftovers(env, alice.uid) == {"objects": [], "results": []}
    assert _markers(env, signed["key"]) == []
    assert _api(env, "GET", "/results", alice, params={"name": short}).status_code == 404


def test_delete_me_leaves_nothing(env, alice, bob) -> None:
    names = [unique_name("gone") for _ in range(3)]
    for name in names:
        _upload_as(env, alice, name, sample_file("wav_pcm16", seed=15))
    for name in names[:2]:
        _wait_as(env, alice, name)  # the third may still be in the pipeline when the account goes
    kept = _upload_as(env, bob, unique_name("kept"), sample_file("wav_pcm16", seed=16))["name"]
    assert _api(env, "DELETE", "/me", alice).status_code == 204
    time.sleep(2)
    assert _leftovers(env, alice.uid) == {"objects": [], "results": []}
    for name in names:
        assert _markers(env, result_key(env["UPLOAD_BUCKET"], f"users/{alice.uid}/{name}")) == []
    again = _api(env, "GET", "/results", alice)
    assert again.status_code == 401  # the account itself is gone
    assert _leftovers(env, bob.uid)["objects"] == [kept]


def test_service_uploads_are_not_served_by_the_api_but_the_cli_reads_them(env, bucket, alice) -> None:
    name = unique_name("service")
    bucket.blob(name).upload_from_string(sample_file("wav_pcm16", seed=17), content_type="audio/wav")
    document = wait_for_result(env, name)
    assert document["owner"] is None
    assert _api(env, "GET", "/results", alice, params={"name": name}).status_code == 404
    direct = coughcloud("result", "--env", str(TEST_STACK.stack_env), name)
    assert direct.returncode == 0, direct.stderr
    assert json.loads(direct.stdout)["key"] == document["key"]


@pytest.fixture
def signed_in_cli() -> Any:
    """The login this test makes is the stack's (login.json beside its stack.env): removed after."""
    login_file = TEST_STACK.state_dir / "login.json"
    yield login_file
    login_file.unlink(missing_ok=True)


def test_cli_login_then_result_reads_as_that_visitor(env, signed_in_cli) -> None:
    env_file = str(TEST_STACK.stack_env)
    login = coughcloud("login", "--env", env_file)
    assert login.returncode == 0, login.stderr
    uid = json.loads(login.stdout)["uid"]
    assert signed_in_cli.stat().st_mode & 0o777 == 0o600  # it holds a refresh token
    visitor = Session.from_dict(json.loads(signed_in_cli.read_text())["session"])
    assert visitor.uid == uid
    short = unique_name("cli")
    _upload_as(env, visitor, short, sample_file("wav_pcm16", seed=18))
    _wait_as(env, visitor, short)
    mine = coughcloud("result", "--env", env_file, short)
    assert mine.returncode == 0, mine.stderr
    assert json.loads(mine.stdout)["owner"] == uid
    # Signed in, a service upload is not theirs; --direct reads it with the CLI's credentials.
    other = unique_name("cli-service")
    storage.Client().bucket(env["UPLOAD_BUCKET"]).blob(other).upload_from_string(b"x" * 100)
    wait_for_result(env, other)
    assert coughcloud("result", "--env", env_file, other).returncode == 1
    assert coughcloud("result", "--env", env_file, "--direct", other).returncode == 0
    assert get_result(env, other)["owner"] is None
    email = coughcloud(
        "login", "--env", env_file, "--email", f"{uid[:8]}@example.com", "--password", "s3cret!!"
    )
    assert email.returncode == 0, email.stderr
    again = coughcloud(
        "login", "--env", env_file, "--email", f"{uid[:8]}@example.com", "--password", "s3cret!!"
    )
    assert json.loads(again.stdout)["uid"] == json.loads(email.stdout)["uid"]  # signed in, not a new account
    wrong = coughcloud(
        "login", "--env", env_file, "--email", f"{uid[:8]}@example.com", "--password", "wrong!!!"
    )
    assert wrong.returncode == 1 and "refused" in wrong.stderr
