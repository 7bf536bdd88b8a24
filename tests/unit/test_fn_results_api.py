"""functions/results_api.py through functions-framework's test client, on the real emulators."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
import requests
from google.cloud import storage

from shared.config import settings
from shared.http import signing
from shared.pipeline import results
from shared.pipeline.messages import Upload
from tests.unit.pipeline_support import Pipeline, function_client, write_signing_key

pytestmark = pytest.mark.integration

ALLOWED = "https://app.example"
REFUSED = "https://evil.example"


@pytest.fixture(scope="module")
def app_client() -> Any:
    return function_client("results_api")


@pytest.fixture
def client(
    app_client: Any,
    pipeline: Pipeline,
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


def test_result_of_a_known_upload(client: Any, pipeline: Pipeline) -> None:
    upload = Upload(pipeline.bucket, "bob/cough.webm", 42, 1000, "audio/webm")
    results.claim_upload(upload, "trace")
    reply = client.get("/results", query_string={"name": "bob/cough.webm"}, headers={"Origin": ALLOWED})
    assert reply.status_code == 200
    body = reply.get_json()
    assert (body["key"], body["name"], body["generation"], body["status"]) == (
        upload.key,
        "bob/cough.webm",
        42,
        "received",
    )
    assert body["created_at"].endswith("+00:00")
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert reply.headers["Vary"] == "Origin"


def test_unknown_name_is_404_with_cors(client: Any) -> None:
    reply = client.get("/results?name=nobody.wav", headers={"Origin": ALLOWED})
    assert reply.status_code == 404
    assert reply.get_json()["error"]["code"] == "not_found"
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize("query", ["", "?name=", "?name=/abs.wav", "?name=a/../b", "?name=a%00b"])
def test_invalid_name_is_400_with_cors(client: Any, query: str) -> None:
    reply = client.get(f"/results{query}", headers={"Origin": ALLOWED})
    assert reply.status_code == 400
    assert reply.get_json()["error"]["code"] == "invalid_name"
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_refused_origin_gets_no_cors_headers(client: Any) -> None:
    for reply in (
        client.get("/results?name=x.wav", headers={"Origin": REFUSED}),
        client.options("/results", headers={"Origin": REFUSED, "Access-Control-Request-Method": "GET"}),
    ):
        assert "Access-Control-Allow-Origin" not in reply.headers
        assert reply.headers["Vary"] == "Origin"


def test_preflight_for_an_allowed_origin(client: Any) -> None:
    reply = client.options(
        "/uploads",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert reply.status_code == 204
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    assert reply.headers["Access-Control-Allow-Headers"].lower() == "content-type"


def test_wildcard_only_when_configured(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "*")
    settings.cache_clear()
    reply = client.get("/healthz", headers={"Origin": REFUSED})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_signed_upload_url_is_bound_to_type_size_and_expiry(client: Any, pipeline: Pipeline) -> None:
    request = {"name": "carol/rec 1.webm", "content_type": "audio/webm;codecs=opus", "size": 5}
    reply = client.post("/uploads", json=request, headers={"Origin": ALLOWED})
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
    body = reply.get_json()
    assert (body["method"], body["name"], body["bucket"]) == ("PUT", "carol/rec 1.webm", pipeline.bucket)
    assert body["key"] == pipeline.key("carol/rec 1.webm")
    assert body["headers"] == {"Content-Type": "audio/webm;codecs=opus", "x-goog-content-length-range": "5,5"}
    url = urllib.parse.urlsplit(body["url"])
    query = urllib.parse.parse_qs(url.query)
    assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
    assert query["X-Goog-Expires"] == [str(settings().SIGNED_URL_EXPIRY_S)]
    assert set(query["X-Goog-SignedHeaders"][0].split(";")) == {
        "content-type",
        "host",
        "x-goog-content-length-range",
    }
    assert urllib.parse.unquote(url.path) == f"/{pipeline.bucket}/carol/rec 1.webm"
    assert f"{url.scheme}://{url.netloc}" == settings().STORAGE_EMULATOR_HOST

    # The local stack's storage emulator takes the PUT the way a browser sends it.
    put = requests.put(body["url"], data=b"12345", headers=body["headers"], timeout=10)
    assert put.status_code == 200
    blob = pipeline.storage_client.bucket(pipeline.bucket).get_blob("carol/rec 1.webm")
    assert (blob.size, blob.content_type) == (5, "audio/webm;codecs=opus")


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
def test_bad_upload_requests(client: Any, request_body: Any, status: int, code: str) -> None:
    reply = client.post("/uploads", json=request_body, headers={"Origin": ALLOWED})
    assert reply.status_code == status
    assert reply.get_json()["error"]["code"] == code
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_recordings_labelled_video_are_accepted(client: Any) -> None:
    for content_type in ("video/webm", "video/mp4", "audio/ogg; codecs=opus"):
        request = {"name": "r.webm", "content_type": content_type, "size": 9}
        assert client.post("/uploads", json=request).status_code == 200


def test_unknown_route_and_wrong_method(client: Any) -> None:
    reply = client.get("/nope", headers={"Origin": ALLOWED})
    assert (reply.status_code, reply.get_json()["error"]["code"]) == (404, "not_found")
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
    reply = client.delete("/results?name=a.wav")
    assert (reply.status_code, reply.get_json()["error"]["code"]) == (405, "method_not_allowed")
    assert reply.headers["Allow"] == "GET, OPTIONS"


def test_internal_error_is_json_500_with_cors(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(key: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("shared.pipeline.results.get", broken)
    reply = client.get("/results?name=a.wav", headers={"Origin": ALLOWED})
    assert reply.status_code == 500
    assert reply.get_json() == {"error": {"code": "internal", "message": "Internal error."}}
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_health_and_openapi(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    document = client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/results", "/uploads", "/healthz", "/openapi.json"}


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

    signed = signing.signed_upload("bucket", "a/b.wav", "audio/wav", 123)
    assert signed.url == "https://storage.googleapis.com/signed"
    [call] = calls
    assert call["blob"] == "a/b.wav"
    assert (call["version"], call["method"], call["content_type"]) == ("v4", "PUT", "audio/wav")
    assert call["headers"] == {"x-goog-content-length-range": "123,123"}
    assert call["expiration"].total_seconds() == settings().SIGNED_URL_EXPIRY_S
    assert call["service_account_email"] == "uploader@p.iam.gserviceaccount.com"
    assert call["access_token"] == "access-token"
    assert "credentials" not in call and "api_access_endpoint" not in call
