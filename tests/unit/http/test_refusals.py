"""results_api's refusals without any backing service: functions-framework's test client, the
caller's identity faked. Regressions of issue 23: each input below once got a 500 (or, for
the chunked body, a 200 after reading 50 MB); and the revocation policy (which calls look
the token up in the Auth service)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from functions_framework import create_app
from werkzeug.test import EnvironBuilder, run_wsgi_app

from shared.accounts.identity import Unauthenticated
from shared.config import settings
from shared.http import api
from shared.http.errors import STATUSES, ApiError, refusal

ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def client() -> Any:
    return create_app(target="results_api", source="functions/results_api.py").test_client()


@pytest.fixture(autouse=True)
def configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", ORIGIN)
    monkeypatch.delenv("FIREBASE_AUTH_EMULATOR_HOST", raising=False)
    settings.cache_clear()


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every call is `u1`'s; records (authorization, check_revoked) of each verification."""
    calls: list[tuple[str, bool]] = []

    def caller_uid(authorization: str | None, *, check_revoked: bool) -> str:
        calls.append((authorization or "", check_revoked))
        return "u1"

    monkeypatch.setattr(api, "caller_uid", caller_uid)
    return calls


def _error(reply: Any, status: int, code: str) -> None:
    assert reply.status_code == status, reply.get_data(as_text=True)
    assert reply.get_json()["error"]["code"] == code
    assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN


class Endless(io.RawIOBase):
    """A request body that never ends; counts what the server read of it."""

    def __init__(self) -> None:
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:] = b" " * len(buffer)
        self.read_bytes += len(buffer)
        return len(buffer)


def _post_stream(client: Any, path: str, body: Endless, headers: dict[str, str]) -> tuple[int, dict]:
    """POST `body` as a server streams it: chunked (no length) unless Content-Length is given."""
    environ = EnvironBuilder(path=path, method="POST", headers=headers).get_environ()
    environ["wsgi.input"] = body
    if "Content-Length" in headers:
        environ["CONTENT_LENGTH"] = headers["Content-Length"]
    else:
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True  # as gunicorn marks a chunked body it decodes
    app_iter, status, reply_headers = run_wsgi_app(client.application, environ, buffered=True)
    reply = json.loads(b"".join(app_iter))
    assert dict(reply_headers)["Access-Control-Allow-Origin"] == ORIGIN
    return int(status.split()[0]), reply


@pytest.mark.parametrize("path", ["/results/feedback", "/uploads"])
def test_a_chunked_body_is_read_no_further_than_the_limit(client: Any, signed_in, path: str) -> None:
    body = Endless()
    status, reply = _post_stream(client, path, body, {"Origin": ORIGIN, "Transfer-Encoding": "chunked"})
    assert (status, reply["error"]["code"]) == (413, "too_large")
    assert body.read_bytes <= api.MAX_REQUEST_BYTES + 1 + io.DEFAULT_BUFFER_SIZE


def test_a_declared_length_over_the_limit_is_413_and_read_no_further(client: Any, signed_in) -> None:
    body = Endless()
    headers = {"Origin": ORIGIN, "Content-Length": str(50 * 1024 * 1024)}
    status, reply = _post_stream(client, "/results/feedback", body, headers)
    assert (status, reply["error"]["code"]) == (413, "too_large")
    assert body.read_bytes <= api.MAX_REQUEST_BYTES + 1 + io.DEFAULT_BUFFER_SIZE


@pytest.mark.parametrize(
    "body",
    [b"[" * 10_000, b'{"name": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", b"\xff\xfe", b"", b"null", b"[]"],
)
def test_bodies_that_are_no_json_object_are_400(client: Any, signed_in, body: bytes) -> None:
    reply = client.post("/results/feedback", data=body, headers={"Origin": ORIGIN})
    _error(reply, 400, "bad_request")


@pytest.mark.parametrize("limit", ["²", "١", "1.0", "-1", "0", "101", "0x10", " 5", "5 ", "", "9" * 50])
def test_a_limit_other_than_ascii_digits_from_1_to_100_is_400(client: Any, signed_in, limit: str) -> None:
    reply = client.get("/results", query_string={"limit": limit}, headers={"Origin": ORIGIN})
    _error(reply, 400, "bad_request")


def test_headers_over_the_budget_are_a_json_431(client: Any, signed_in) -> None:
    headers = {"Origin": ORIGIN, **{f"X-Pad-{i}": "x" * 4000 for i in range(5)}}
    _error(client.get("/healthz", headers=headers), 431, "headers_too_large")
    assert signed_in == []  # refused before the token is even looked at


def test_an_unknown_failure_inside_token_verification_is_401(client: Any, monkeypatch) -> None:
    """A non-numeric `iat` raised TypeError inside firebase-admin: a 500 then."""
    from shared.accounts import identity

    class Auth:
        class CertificateFetchError(Exception): ...

        ExpiredIdTokenError = RevokedIdTokenError = UserDisabledError = CertificateFetchError
        UserNotFoundError = InvalidIdTokenError = CertificateFetchError

        @staticmethod
        def verify_id_token(*args: Any, **kwargs: Any) -> dict[str, Any]:
            raise TypeError("'<' not supported between instances of 'str' and 'int'")

    monkeypatch.setattr(identity, "auth_module", lambda: Auth)
    monkeypatch.setattr(identity, "firebase_app", lambda: None)
    reply = client.get("/results", headers={"Origin": ORIGIN, "Authorization": "Bearer x.y.z"})
    _error(reply, 401, "unauthenticated")
    assert reply.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("uid", ["A/sub", "", "a\nb", "..", 7])
def test_a_uid_that_cannot_be_a_path_segment_is_refused_at_verification(monkeypatch, uid: object) -> None:
    from shared.accounts import identity

    class Auth:
        class Never(Exception): ...

        CertificateFetchError = ExpiredIdTokenError = RevokedIdTokenError = UserDisabledError = Never
        UserNotFoundError = InvalidIdTokenError = Never

        @staticmethod
        def verify_id_token(*args: Any, **kwargs: Any) -> dict[str, Any]:
            return {"uid": uid, "exp": 2**40}

    monkeypatch.setattr(identity, "auth_module", lambda: Auth)
    monkeypatch.setattr(identity, "firebase_app", lambda: None)
    with pytest.raises(Unauthenticated, match="account id"):
        identity.verified_uid("t", check_revoked=True)


# (method, path, body): what each operation's verification asks for.
OPERATIONS = [
    ("GET", "/results?name=a.wav", None, False),
    ("GET", "/results", None, False),
    ("POST", "/uploads", {"name": "a.wav"}, True),
    ("POST", "/results/feedback", {"name": "a.wav", "label": "cough"}, True),
    ("DELETE", "/results?name=a.wav", None, True),
    ("DELETE", "/me", None, True),
]


@pytest.mark.parametrize(("method", "path", "body", "fresh"), OPERATIONS)
def test_revocation_is_looked_up_on_writes_and_erasure_not_on_reads(
    client: Any, monkeypatch, method: str, path: str, body: Any, fresh: bool
) -> None:
    asked: list[bool] = []

    def caller_uid(authorization: str | None, *, check_revoked: bool) -> str:
        asked.append(check_revoked)
        raise Unauthenticated("stop here")

    monkeypatch.setattr(api, "caller_uid", caller_uid)
    reply = client.open(path, method=method, json=body, headers={"Origin": ORIGIN})
    _error(reply, 401, "unauthenticated")
    assert asked == [fresh]
    assert ((path.split("?")[0], method) in api.CHECKS_REVOCATION) == fresh


def test_every_kind_of_refusal_has_one_status() -> None:
    for kind, status in STATUSES.items():
        error = kind("x") if issubclass(kind, ApiError | Unauthenticated) else None
        if error is not None:
            assert refusal(error).status == status
    assert refusal(RuntimeError("a bug")) is None


def test_trace_ids_come_from_the_platform_or_are_made_up(client: Any) -> None:
    with client.application.test_request_context(
        headers={"traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"}
    ):
        import flask

        assert api.trace_id(flask.request) == "ab" * 16
    with client.application.test_request_context(headers={"X-Cloud-Trace-Context": "<script>/1"}):
        made_up = api.trace_id(flask.request)
        assert len(made_up) == 32 and made_up.isalnum()


def test_the_body_bound_leaves_small_bodies_whole(client: Any, signed_in, monkeypatch) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setitem(
        api.ROUTES,
        "/results/feedback",
        {"POST": lambda r, uid: seen.append(api._json_object(r, "")) or api._json(200, {})},
    )
    payload = {"name": "é" * 1000, "label": "cough"}
    reply = client.post("/results/feedback", data=json.dumps(payload), headers={"Origin": ORIGIN})
    assert reply.status_code == 200 and seen == [payload]
