"""Issue 23's five problems, each replayed against the running local stack (real server,
emulators, pipeline) as an attacker sent them; and the revocation policy.

1. a name with nothing after `users/{uid}/`, and erasure sweeping results by name;
2. a chunked body far over the limit;
3. inputs that once got a 500: deep JSON, `limit=²`, an overflowing page token, a token with
   a bad `iat`, oversized headers;
4. a uid containing `/`;
5. a signed URL replayed: a second write, and a re-creation after an erasure.

fake-gcs does not enforce the signed `x-goog-if-generation-match: 0` (Cloud Storage answers
412), so here the replayed PUT lands and what is checked is that the pipeline deletes it
unread, leaving the first result as it was (on Google Cloud both layers hold).
"""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from google.cloud import storage

from shared.accounts.sign_in import Session
from shared.names import result_key
from tests.accounts_support import bearer, new_visitor, unsigned_token
from tests.fixtures.audio_files import sample_file
from tests.integration.support import get_result, wait_for_result
from tests.integration.visitors import api, leftovers, upload_as, wait_as

pytestmark = pytest.mark.integration

SETTLE_S = 15.0  # how long the pipeline may take to refuse a replayed upload


@pytest.fixture
def visitor(env: dict[str, str]) -> Session:
    return new_visitor(env)


def _admin(env: dict[str, str], path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The Auth emulator's admin REST API (what firebase-admin calls), as the project owner."""
    url = (
        f"http://{env['FIREBASE_AUTH_EMULATOR_HOST']}/identitytoolkit.googleapis.com/v1/"
        f"projects/{env['GOOGLE_CLOUD_PROJECT']}/{path}"
    )
    reply = requests.post(url, json=body, headers={"Authorization": "Bearer owner"}, timeout=10)
    assert reply.ok, reply.text
    return reply.json()


def _refused(reply: requests.Response, env: dict[str, str], status: int, code: str | None = None) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.headers["Access-Control-Allow-Origin"] == env["FRONTEND_URL"]
    if code:
        assert reply.json()["error"]["code"] == code


def _live_generations(env: dict[str, str], name: str) -> list[int]:
    blobs = storage.Client().list_blobs(env["UPLOAD_BUCKET"], prefix=name, versions=True)
    return [b.generation for b in blobs if b.name == name]


def _eventually(check: Any, timeout: float = SETTLE_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time the pipeline is given"
        time.sleep(0.1)


# --- 1. one definition of a name's owner ----------------------------------------------------


@pytest.mark.parametrize("short", ["", ".", "a/./b.wav", "a//b.wav", "a/", "./", "{prefix}", "{prefix}x/"])
def test_a_name_that_leaves_no_file_under_the_prefix_gets_no_url(env, visitor, short: str) -> None:
    name = short.format(prefix=f"users/{visitor.uid}/")
    body = {"name": name, "content_type": "audio/wav", "size": 10}
    reply = api(env, "POST", "/uploads", visitor, json=body)
    _refused(reply, env, 400, "invalid_name")
    assert "url" not in reply.json()


def test_erasure_sweeps_results_named_under_the_prefix_whatever_their_owner(env, bucket, visitor) -> None:
    """A name under the prefix that nobody owns (written with service credentials) is failed
    by the pipeline with no owner; DELETE /me still takes its object and its result."""
    name = f"users/{visitor.uid}/x/./y.wav"
    bucket.blob(name).upload_from_string(sample_file("wav_pcm16", seed=31), content_type="audio/wav")
    document = wait_for_result(env, name)
    assert (document["status"], document["error"]["code"], document["owner"]) == (
        "failed",
        "invalid_name",
        None,
    )
    assert api(env, "DELETE", "/me", visitor).status_code == 204
    assert leftovers(env, visitor.uid) == {"objects": [], "results": []}
    assert get_result(env, name) is None


# --- 2. bodies bounded however they arrive --------------------------------------------------


def _chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b" " * size


@pytest.mark.parametrize("path", ["/results/feedback", "/uploads"])
def test_a_50_mb_chunked_body_is_413(env, visitor, path: str) -> None:
    reply = api(env, "POST", path, visitor, data=_chunks(50 * 1024 * 1024))
    _refused(reply, env, 413, "too_large")
    assert requests.get(env["RESULTS_API_URL"] + "/healthz", timeout=5).json() == {"status": "ok"}


# --- 3. a JSON 4xx where the input is at fault -----------------------------------------------


def _page_token(created_at: str) -> str:
    cursor = json.dumps({"created_at": created_at, "key": "k"}).encode()
    return base64.urlsafe_b64encode(cursor).decode().rstrip("=")


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("POST", "/results/feedback", {"data": "[" * 8_000 + "]" * 8_000}),
        ("POST", "/results/feedback", {"data": "[" * 15_000}),
        ("POST", "/uploads", {"data": '{"name": ' + "[" * 5_000}),
        ("GET", "/results", {"params": {"limit": "²"}}),
        ("GET", "/results", {"params": {"page_token": _page_token("9999-12-31T23:59:59-23:59")}}),
        ("GET", "/results", {"params": {"page_token": _page_token("0001-01-01T00:00:00+23:59")}}),
        ("GET", "/results", {"params": {"page_token": _page_token("2026-01-01T00:00:00")}}),
    ],
)
def test_inputs_that_were_500s_are_400s(env, visitor, method: str, path: str, kwargs: dict) -> None:
    _refused(api(env, method, path, visitor, **kwargs), env, 400, "bad_request")


@pytest.mark.parametrize("iat", ["missing", "soon", None, [1]])
def test_a_token_with_a_bad_iat_is_401(env, visitor, iat: Any) -> None:
    token = unsigned_token(visitor.uid, env["GOOGLE_CLOUD_PROJECT"])
    header, claims, _ = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    if iat == "missing":
        del payload["iat"]
    else:
        payload["iat"] = iat
    forged = f"{header}.{base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip('=')}."
    for method, path in (("GET", "/results"), ("DELETE", "/me")):
        reply = api(env, method, path, None, headers=bearer(forged))
        _refused(reply, env, 401, "unauthenticated")
    assert api(env, "GET", "/results", visitor).status_code == 200  # the account is untouched


def test_headers_over_the_budget_are_a_json_431_with_cors(env, visitor) -> None:
    padding = {f"X-Pad-{i}": "x" * 4_000 for i in range(5)}
    _refused(api(env, "GET", "/results", visitor, headers=padding), env, 431, "headers_too_large")


def test_a_header_line_over_the_servers_limit_is_refused_before_the_app(env) -> None:
    """Gunicorn's own 431 (8,190 bytes a line): no CORS, as on Cloud Run's front end, and no 5xx."""
    reply = requests.get(env["RESULTS_API_URL"] + "/healthz", headers={"X-Big": "x" * 9_000}, timeout=10)
    assert reply.status_code == 431
    long_url = env["RESULTS_API_URL"] + "/results?name=" + "a" * 9_000
    assert requests.get(long_url, timeout=10).status_code == 414
    assert requests.get(env["RESULTS_API_URL"] + "/healthz", timeout=5).status_code == 200


# --- 4. a uid that cannot be one path segment ------------------------------------------------


def test_a_uid_with_a_slash_cannot_reach_into_another_accounts_prefix(env, visitor) -> None:
    """Custom tokens (or another identity provider) could carry `A/sub`; with it, DELETE /me
    once erased A's objects under `users/A/sub/`."""
    mine = upload_as(env, visitor, "sub/kept.wav", sample_file("wav_pcm16", seed=32))["name"]
    wait_as(env, visitor, "sub/kept.wav")
    intruder = f"{visitor.uid}/sub"
    _admin(env, "accounts", {"localId": intruder})  # the emulator accepts such a uid
    token = unsigned_token(intruder, env["GOOGLE_CLOUD_PROJECT"])
    for method, path in (("DELETE", "/me"), ("GET", "/results"), ("DELETE", "/results?name=kept.wav")):
        _refused(api(env, method, path, None, headers=bearer(token)), env, 401, "unauthenticated")
    assert _live_generations(env, mine), "the visitor's upload is still there"


# --- 5. a signed URL writes once ------------------------------------------------------------


def test_a_replayed_url_cannot_overwrite_a_recording_or_its_result(env, visitor) -> None:
    signed = upload_as(env, visitor, "once.wav", sample_file("wav_pcm16", seed=33))
    first = wait_as(env, visitor, "once.wav")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(signed["url"]).query))
    assert "x-goog-if-generation-match" in query["X-Goog-SignedHeaders"].split(";")
    again = requests.put(
        signed["url"], data=sample_file("wav_pcm16", seed=34), headers=signed["headers"], timeout=10
    )
    if again.status_code == 412:  # Cloud Storage enforces the signed precondition
        return
    assert again.ok, again.text  # fake-gcs does not: the pipeline refuses the second generation
    second = int(again.json()["generation"])
    _eventually(lambda: second not in _live_generations(env, signed["name"]))
    time.sleep(1.0)
    after = api(env, "GET", "/results", visitor, params={"name": "once.wav"}).json()
    assert {k: after[k] for k in ("generation", "status", "label", "confidence")} == {
        k: first[k] for k in ("generation", "status", "label", "confidence")
    }


def test_a_url_replayed_after_its_upload_was_erased_recreates_nothing(env, visitor) -> None:
    signed = upload_as(env, visitor, "erased.wav", sample_file("wav_pcm16", seed=35))
    wait_as(env, visitor, "erased.wav")
    assert api(env, "DELETE", "/results", visitor, params={"name": "erased.wav"}).status_code == 204
    replay = requests.put(
        signed["url"], data=sample_file("wav_pcm16", seed=36), headers=signed["headers"], timeout=10
    )
    assert replay.ok or replay.status_code == 412, replay.text
    _eventually(lambda: not _live_generations(env, signed["name"]))
    time.sleep(1.0)
    assert get_result(env, signed["name"]) is None
    assert api(env, "GET", "/results", visitor, params={"name": "erased.wav"}).status_code == 404


def test_a_url_replayed_after_the_account_was_erased_recreates_nothing(env, visitor) -> None:
    data = sample_file("wav_pcm16", seed=37)
    body = {"name": "late.wav", "content_type": "audio/wav", "size": len(data)}
    signed = api(env, "POST", "/uploads", visitor, json=body).json()  # issued, not used yet
    assert api(env, "DELETE", "/me", visitor).status_code == 204
    late = requests.put(signed["url"], data=data, headers=signed["headers"], timeout=10)
    assert late.ok or late.status_code == 412, late.text
    _eventually(lambda: not _live_generations(env, signed["name"]))
    time.sleep(1.0)
    assert get_result(env, signed["name"]) is None
    assert leftovers(env, visitor.uid) == {"objects": [], "results": []}


# --- revocation where it protects something --------------------------------------------------


def test_a_revoked_token_can_neither_erase_nor_give_feedback_nor_upload(env, visitor) -> None:
    name = upload_as(env, visitor, "revoked.wav", sample_file("wav_pcm16", seed=38))["name"]
    wait_as(env, visitor, "revoked.wav")
    time.sleep(1.1)  # revocation counts in whole seconds: the token must predate it
    _admin(env, "accounts:update", {"localId": visitor.uid, "validSince": str(int(time.time()))})
    feedback = {"name": "revoked.wav", "label": "not_cough"}
    upload = {"name": "more.wav", "content_type": "audio/wav", "size": 10}
    for method, path, kwargs in (
        ("DELETE", "/me", {}),
        ("DELETE", "/results", {"params": {"name": "revoked.wav"}}),
        ("POST", "/results/feedback", {"json": feedback}),
        ("POST", "/uploads", {"json": upload}),
    ):
        _refused(api(env, method, path, visitor, **kwargs), env, 401, "unauthenticated")
    assert _live_generations(env, name)
    document = get_result(env, name)
    assert document is not None and document["feedback"] is None
    assert result_key(env["UPLOAD_BUCKET"], name) == document["key"]
