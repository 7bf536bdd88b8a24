"""functions/results_api.py through functions-framework's test client, on the real emulators.

Visitors are real accounts on the Firebase Auth emulator; each test gets fresh ones.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import pytest
import requests
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.accounts.sign_in import Session
from shared.cloud import firestore
from shared.config import settings
from shared.pipeline import results
from shared.pipeline.messages import Upload
from tests.accounts_support import bearer, new_visitor, unsigned_token
from tests.pipeline_support import Pipeline, function_client, write_signing_key

pytestmark = pytest.mark.integration

ALLOWED = "https://app.example"
REFUSED = "https://evil.example"


class Api:
    """The test client, sending `visitor`'s ID token (and the allowed Origin) unless told otherwise."""

    def __init__(self, client: Any, visitor: Session) -> None:
        self.client, self.visitor = client, visitor

    def __call__(self, method: str, path: str, token: str | None = "", **kwargs: Any) -> Any:
        headers = {"Origin": ALLOWED, **kwargs.pop("headers", {})}
        token = self.visitor.id_token if token == "" else token
        if token is not None:
            headers.update(bearer(token))
        return self.client.open(path, method=method, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def app_client() -> Any:
    return function_client("results_api")


@pytest.fixture
def client(
    app_client: Any,
    pipeline: Pipeline,
    auth_emulator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    key_file = tmp_path_factory.getbasetemp() / "signing-key.json"
    if not key_file.exists():
        write_signing_key(key_file)
    monkeypatch.setenv("SIGNING_KEY_FILE", str(key_file))
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", f"{ALLOWED}, http://localhost:5173")
    settings.cache_clear()
    return app_client


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client, new_visitor())


@pytest.fixture
def stranger(client: Any) -> Api:
    return Api(client, new_visitor())


def _claim(pipeline: Pipeline, name: str, generation: int = 42) -> Upload:
    upload = Upload(pipeline.bucket, name, generation, 1000, "audio/webm")
    results.claim_upload(upload, "trace")
    return upload


def _own(api: Api, name: str) -> str:
    return f"users/{api.visitor.uid}/{name}"


def test_result_of_ones_own_upload_by_full_and_short_name(api: Api, pipeline: Pipeline) -> None:
    upload = _claim(pipeline, _own(api, "cough.webm"))
    for name in (upload.name, "cough.webm"):
        reply = api("GET", "/results", query_string={"name": name})
        assert reply.status_code == 200
        body = reply.get_json()
        assert (body["key"], body["name"], body["generation"], body["status"]) == (
            upload.key,
            upload.name,
            42,
            "received",
        )
        assert body["owner"] == api.visitor.uid
        assert body["created_at"].endswith("+00:00")
        assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
        assert reply.headers["Vary"] == "Origin"


def test_another_visitors_result_is_not_found_never_forbidden(
    api: Api, stranger: Api, pipeline: Pipeline
) -> None:
    upload = _claim(pipeline, _own(api, "mine.webm"))
    unknown = stranger("GET", "/results", query_string={"name": _own(stranger, "nothing.webm")})
    for name in (upload.name, "mine.webm"):
        reply = stranger("GET", "/results", query_string={"name": name})
        assert reply.status_code == 404
        assert reply.get_json()["error"]["code"] == "not_found"
        # The same reply as for a name that exists nowhere: nothing tells the name exists.
        assert reply.get_json()["error"]["message"].replace(name, "N") == unknown.get_json()["error"][
            "message"
        ].replace(_own(stranger, "nothing.webm"), "N")
    assert api("GET", "/results", query_string={"name": upload.name}).status_code == 200


def test_uploads_outside_users_are_never_served(api: Api, pipeline: Pipeline) -> None:
    _claim(pipeline, "service/upload.wav")
    reply = api("GET", "/results", query_string={"name": "service/upload.wav"})
    assert reply.status_code == 404  # read as users/{uid}/service/upload.wav, which does not exist


def test_unknown_name_is_404_with_cors(api: Api) -> None:
    reply = api("GET", "/results?name=nobody.wav")
    assert reply.status_code == 404
    assert reply.get_json()["error"]["code"] == "not_found"
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize("query", ["?name=", "?name=/abs.wav", "?name=a/../b", "?name=a%00b"])
def test_invalid_name_is_400_with_cors(api: Api, query: str) -> None:
    reply = api("GET", f"/results{query}")
    assert reply.status_code == 400
    assert reply.get_json()["error"]["code"] == "invalid_name"
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


def _unauthenticated(reply: Any, *words: str) -> None:
    assert reply.status_code == 401
    error = reply.get_json()["error"]
    assert error["code"] == "unauthenticated"
    for word in words:
        assert word in error["message"]
    assert reply.headers["WWW-Authenticate"] == "Bearer"
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


ROUTES = [
    ("GET", "/results?name=a.wav"),
    ("GET", "/results"),
    ("DELETE", "/results?name=a.wav"),
    ("POST", "/uploads"),
    ("POST", "/warm"),
    ("DELETE", "/me"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_but_health_and_openapi_needs_a_token(api: Api, method: str, path: str) -> None:
    body = {"name": "a.wav", "content_type": "audio/wav", "size": 5}
    _unauthenticated(api(method, path, token=None, json=body), "Authorization", "Bearer")
    _unauthenticated(api(method, path, token=None, headers={"Authorization": "Basic dTpw"}), "Bearer")
    _unauthenticated(api(method, path, token=None, headers={"Authorization": "Bearer "}), "no token")
    assert api("GET", "/healthz", token=None).status_code == 200
    assert api("GET", "/openapi.json", token=None).status_code == 200


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 5000, "eyJhbGciOiJub25lIn0.e30."])
def test_malformed_tokens_are_401(api: Api, token: str) -> None:
    _unauthenticated(api("GET", "/results", token=token), "token")


def test_hand_made_unsigned_token_for_a_made_up_user_is_refused(api: Api) -> None:
    """The emulator's danger: without the revocation check firebase-admin would accept this one."""
    _unauthenticated(api("GET", "/results", token=unsigned_token("made-up-user")), "does not exist")


def test_forged_token_naming_a_real_visitor_is_refused(api: Api, stranger: Api, pipeline: Pipeline) -> None:
    """Against the emulator an unsigned token for an existing uid passes the checks (the
    emulator's tokens are unsigned too); what refuses it on Google Cloud is the signature,
    proven in test_identity.py. Here: a token for another project's audience is refused."""
    _claim(pipeline, _own(api, "secret.webm"))
    forged = unsigned_token(api.visitor.uid, project="another-project")
    _unauthenticated(api("GET", "/results?name=secret.webm", token=forged), "aud")


def test_expired_and_revoked_tokens_are_401(api: Api) -> None:
    expired = unsigned_token(api.visitor.uid, expires_in=-60)
    _unauthenticated(api("GET", "/results", token=expired), "expired")
    from shared.accounts import identity

    time.sleep(1.1)  # revocation counts in whole seconds: tokens issued before that second
    identity.auth_module().revoke_refresh_tokens(api.visitor.uid, app=identity.firebase_app())
    _unauthenticated(api("GET", "/results"), "revoked")


def test_preflight_allows_the_token_header_and_delete(client: Any) -> None:
    reply = client.options(
        "/results",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert reply.status_code == 204
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "DELETE" in reply.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in reply.headers["Access-Control-Allow-Headers"].split(",")}
    assert allowed == {"authorization", "content-type", "x-firebase-appcheck"}  # App Check, when on


def test_refused_origin_gets_no_cors_headers(api: Api) -> None:
    for reply in (
        api("GET", "/results?name=x.wav", headers={"Origin": REFUSED}),
        api("GET", "/results?name=x.wav", token=None, headers={"Origin": REFUSED}),
        api.client.options("/results", headers={"Origin": REFUSED, "Access-Control-Request-Method": "GET"}),
    ):
        assert "Access-Control-Allow-Origin" not in reply.headers
        assert reply.headers["Vary"] == "Origin"


def test_wildcard_only_when_configured(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "*")
    settings.cache_clear()
    reply = client.get("/healthz", headers={"Origin": REFUSED})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_signed_upload_url_is_bound_to_type_size_expiry_and_the_callers_prefix(
    api: Api, pipeline: Pipeline
) -> None:
    request = {"name": "carol/rec 1.webm", "content_type": "audio/webm;codecs=opus", "size": 5}
    reply = api("POST", "/uploads", json=request)
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
    body = reply.get_json()
    name = _own(api, "carol/rec 1.webm")
    assert (body["method"], body["name"], body["bucket"]) == ("PUT", name, pipeline.bucket)
    assert body["key"] == pipeline.key(name)
    assert body["headers"] == {
        "Content-Type": "audio/webm;codecs=opus",
        "x-goog-content-length-range": "5,5",
        "x-goog-if-generation-match": "0",
    }
    url = urllib.parse.urlsplit(body["url"])
    query = urllib.parse.parse_qs(url.query)
    assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
    assert query["X-Goog-Expires"] == [str(settings().SIGNED_URL_EXPIRY_S)]
    assert set(query["X-Goog-SignedHeaders"][0].split(";")) == {
        "content-type",
        "host",
        "x-goog-content-length-range",
        "x-goog-if-generation-match",
    }
    assert urllib.parse.unquote(url.path) == f"/{pipeline.bucket}/{name}"
    assert f"{url.scheme}://{url.netloc}" == settings().STORAGE_EMULATOR_HOST

    # The local stack's storage emulator takes the PUT the way a browser sends it.
    put = requests.put(body["url"], data=b"12345", headers=body["headers"], timeout=10)
    assert put.status_code == 200
    blob = pipeline.storage_client.bucket(pipeline.bucket).get_blob(name)
    assert (blob.size, blob.content_type) == (5, "audio/webm;codecs=opus")


def test_a_name_under_ones_own_prefix_is_kept_and_anothers_is_forbidden(api: Api, stranger: Api) -> None:
    own = {"name": _own(api, "a.wav"), "content_type": "audio/wav", "size": 5}
    assert api("POST", "/uploads", json=own).get_json()["name"] == own["name"]
    for name in (_own(stranger, "a.wav"), "users/someone/a.wav", "users/a.wav"):
        reply = api("POST", "/uploads", json={**own, "name": name})
        assert reply.status_code == 403
        assert reply.get_json()["error"]["code"] == "forbidden"
        assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_prefixing_counts_towards_the_name_limit(api: Api) -> None:
    room = 512 - len(_own(api, ""))
    ok = api("POST", "/uploads", json={"name": "a" * room, "content_type": "audio/wav", "size": 5})
    assert ok.status_code == 200 and len(ok.get_json()["name"].encode()) == 512
    too_long = api(
        "POST", "/uploads", json={"name": "a" * (room + 1), "content_type": "audio/wav", "size": 5}
    )
    assert (too_long.status_code, too_long.get_json()["error"]["code"]) == (400, "invalid_name")


@pytest.mark.parametrize(
    ("request_body", "status", "code"),
    [
        ({"name": "a.wav", "content_type": "text/plain", "size": 5}, 415, "unsupported_format"),
        ({"name": "a.wav", "content_type": "audio/wav", "size": 10**10}, 400, "too_large"),
        ({"name": "../a.wav", "content_type": "audio/wav", "size": 5}, 400, "invalid_name"),
        ({"name": "a.wav", "content_type": "audio/wav", "size": 0}, 400, "bad_request"),
        ({"name": "a.wav", "content_type": "audio/wav", "size": "5"}, 400, "bad_request"),
        ({"name": "a.wav", "size": 5}, 400, "bad_request"),
        ([1, 2], 400, "bad_request"),
    ],
)
def test_bad_upload_requests(api: Api, request_body: Any, status: int, code: str) -> None:
    reply = api("POST", "/uploads", json=request_body)
    assert reply.status_code == status
    assert reply.get_json()["error"]["code"] == code
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_recordings_labelled_video_are_accepted(api: Api) -> None:
    for content_type in ("video/webm", "video/mp4", "audio/ogg; codecs=opus"):
        request = {"name": "r.webm", "content_type": content_type, "size": 9}
        assert api("POST", "/uploads", json=request).status_code == 200


def test_listing_is_ones_own_newest_first_and_paged(api: Api, stranger: Api, pipeline: Pipeline) -> None:
    names = [_own(api, f"rec-{i}.wav") for i in range(5)]
    for name in names:
        _claim(pipeline, name)
    _claim(pipeline, _own(stranger, "theirs.wav"))
    _claim(pipeline, "service/none.wav")
    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        query = {"limit": "2", **({"page_token": token} if token else {})}
        reply = api("GET", "/results", query_string=query)
        assert reply.status_code == 200
        body = reply.get_json()
        assert len(body["results"]) <= 2
        assert all(r["owner"] == api.visitor.uid and r["key"] for r in body["results"])
        seen += [r["name"] for r in body["results"]]
        pages += 1
        token = body["next_page_token"]
        if token is None:
            break
    assert seen == names[::-1]  # newest first, each once, nobody else's
    assert pages == 3
    everything = api("GET", "/results").get_json()
    assert [r["name"] for r in everything["results"]] == names[::-1]
    assert everything["next_page_token"] is None
    assert stranger("GET", "/results").get_json()["results"][0]["name"] == _own(stranger, "theirs.wav")


@pytest.mark.parametrize(
    "query",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"limit": "-1"},
        {"page_token": "%%%"},
        {"page_token": "eyJ4IjogMX0"},
        {"nmae": "a.wav"},  # a typo must not list everything instead
        {"": "false"},
    ],
)
def test_bad_paging_is_400(api: Api, query: dict[str, str]) -> None:
    reply = api("GET", "/results", query_string=query)
    assert (reply.status_code, reply.get_json()["error"]["code"]) == (400, "bad_request")
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_delete_erases_every_generation_the_result_and_its_markers(
    api: Api, stranger: Api, pipeline: Pipeline
) -> None:
    name = _own(api, "erase-me.wav")
    bucket = pipeline.storage_client.bucket(pipeline.bucket)
    bucket.blob(name).upload_from_string(b"one")
    bucket.blob(name).upload_from_string(b"two")
    upload = _claim(pipeline, name)
    results.mark_failed(upload.key, upload.generation, "too_short", "short", fresh=upload)
    ref = results._ref(upload.key)
    assert list(ref.collection("finished").stream())

    assert stranger("DELETE", "/results", query_string={"name": name}).status_code == 404
    assert results.get(upload.key) is not None  # a stranger erased nothing

    reply = api("DELETE", "/results", query_string={"name": "erase-me.wav"})
    assert reply.status_code == 204
    assert reply.data == b""
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert list(pipeline.storage_client.list_blobs(pipeline.bucket, prefix=name, versions=True)) == []
    assert not ref.get().exists
    assert list(ref.collection("finished").stream()) == []
    again = api("DELETE", "/results", query_string={"name": name})
    assert (again.status_code, again.get_json()["error"]["code"]) == (404, "not_found")


def test_delete_me_leaves_nothing_of_the_visitor_and_everything_of_others(
    api: Api, stranger: Api, pipeline: Pipeline
) -> None:
    bucket = pipeline.storage_client.bucket(pipeline.bucket)
    mine = [_own(api, n) for n in ("a.wav", "deep/b.wav", "c.wav")]
    theirs = [_own(stranger, "a.wav"), "service/a.wav"]
    for name in mine + theirs:
        bucket.blob(name).upload_from_string(b"x")
        _claim(pipeline, name)
    bucket.blob(mine[0]).upload_from_string(b"second generation")
    done = results.get(pipeline.key(mine[1]))
    results.mark_failed(pipeline.key(mine[1]), done["generation"], "too_short", "short")

    reply = api("DELETE", "/me")
    assert reply.status_code == 204
    prefix = f"users/{api.visitor.uid}/"
    assert list(pipeline.storage_client.list_blobs(pipeline.bucket, prefix=prefix, versions=True)) == []
    collection = firestore.client().collection(settings().RESULTS_COLLECTION)
    assert [s.id for s in collection.where(filter=FieldFilter("owner", "==", api.visitor.uid)).stream()] == []
    for name in mine:
        ref = results._ref(pipeline.key(name))
        assert not ref.get().exists
        assert list(ref.collection("finished").stream()) == []
    from shared.accounts import identity

    with pytest.raises(identity.auth_module().UserNotFoundError):
        identity.auth_module().get_user(api.visitor.uid, app=identity.firebase_app())
    # Its token is refused from now on; everyone else's data is untouched.
    _unauthenticated(api("GET", "/results"), "token")
    for name in theirs:
        assert bucket.get_blob(name) is not None
        assert results.get(pipeline.key(name)) is not None
    assert stranger("GET", "/results?name=a.wav").status_code == 200


def test_unknown_route_and_wrong_method(api: Api) -> None:
    reply = api("GET", "/nope")
    assert (reply.status_code, reply.get_json()["error"]["code"]) == (404, "not_found")
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
    reply = api("PUT", "/results?name=a.wav")
    assert (reply.status_code, reply.get_json()["error"]["code"]) == (405, "method_not_allowed")
    assert reply.headers["Allow"] == "GET, DELETE, OPTIONS"


def test_internal_error_is_json_500_with_cors_and_a_logged_trace_id(
    api: Api, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(key: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("shared.pipeline.results.get", broken)
    trace = "105445aa7843bc8bf206b12000100000"
    reply = api("GET", "/results?name=a.wav", headers={"X-Cloud-Trace-Context": f"{trace}/1;o=1"})
    assert reply.status_code == 500
    assert reply.get_json() == {"error": {"code": "internal", "message": f"Internal error (trace {trace})."}}
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [entry] = [e for e in logged if e.get("error") == "boom"]
    assert entry["trace_id"] == trace and "RuntimeError" in entry["stack_trace"]
    # Without a trace header the API makes one up, and still logs it.
    reply = api("GET", "/results?name=a.wav")
    made_up = reply.get_json()["error"]["message"].removeprefix("Internal error (trace ").removesuffix(").")
    assert len(made_up) == 32 and made_up in capsys.readouterr().out


def test_health_and_openapi(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/results",
        "/results/feedback",
        "/uploads",
        "/warm",
        "/me",
        "/healthz",
        "/openapi.json",
    }
    assert document["components"]["securitySchemes"]["firebaseIdToken"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            public = path in ("/healthz", "/openapi.json") or method == "options"
            assert ("security" in operation) != public, (method, path)
