"""The HTTP reader's security, against the running local stack: CORS allowlist, signed-URL
bounds, name validation / traversal through the API, and sign-in (every call but /healthz
and /openapi.json carries a visitor's ID token from the stack's Auth emulator unless a
row says `NO_TOKEN`).

fake-gcs-server does not check signatures, so whether Cloud Storage would refuse a PUT of
another size or type cannot be exercised locally; what is checked is that the URL signs
the content type and the exact length range (so Cloud Storage enforces them), that its
expiry is within the configured one, and that refused sizes and types get no URL at all.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from shared.config import Settings
from tests.accounts_support import bearer, new_visitor, unsigned_token

pytestmark = pytest.mark.integration

EVIL_ORIGINS = ["https://evil.example", "null", "http://localhost:1", ""]


@dataclass(frozen=True)
class Api:
    url: str
    origin: str
    expiry_s: int
    max_bytes: int
    token: str

    def call(
        self, method: str, path: str, origin: str | None = None, token: str | None = "", **kwargs: Any
    ) -> requests.Response:
        headers = kwargs.pop("headers", {})
        if origin is not None:
            headers["Origin"] = origin
        if token is not None:
            headers.update(bearer(token or self.token))
        return requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def api(stack: Any) -> Api:
    env = stack.env
    defaults = Settings()
    return Api(
        url=env["RESULTS_API_URL"].rstrip("/"),
        origin=env["FRONTEND_URL"].rstrip("/"),  # the page's own origin is always allowed
        expiry_s=int(env.get("SIGNED_URL_EXPIRY_S", defaults.SIGNED_URL_EXPIRY_S)),
        max_bytes=int(env.get("MAX_UPLOAD_BYTES", defaults.MAX_UPLOAD_BYTES)),
        token=new_visitor(env).id_token,
    )


def upload_body(name: str = "sec/cough.webm", content_type: str = "audio/webm", size: Any = 1000) -> dict:
    return {"name": name, "content_type": content_type, "size": size}


NO_TOKEN, FORGED = None, "forged"
# (method, path, json body, token, expected status): successes and every kind of error reply.
REQUESTS = [
    ("GET", "/healthz", None, NO_TOKEN, 200),
    ("GET", "/openapi.json", None, NO_TOKEN, 200),
    ("GET", "/results?name=sec/never-uploaded.wav", None, "", 404),
    ("GET", "/results?name=users/someone-else/a.wav", None, "", 404),
    ("GET", "/results?name=../etc/passwd", None, "", 400),
    ("GET", "/results", None, "", 200),
    ("GET", "/results?limit=0", None, "", 400),
    ("GET", "/results", None, NO_TOKEN, 401),
    ("GET", "/results?name=a.wav", None, FORGED, 401),
    ("DELETE", "/results?name=a.wav", None, "", 404),
    ("DELETE", "/results?name=a.wav", None, NO_TOKEN, 401),
    ("DELETE", "/me", None, FORGED, 401),
    ("PUT", "/results?name=a.wav", None, "", 405),
    ("GET", "/nowhere", None, "", 404),
    ("POST", "/uploads", upload_body(), "", 200),
    ("POST", "/uploads", upload_body(), NO_TOKEN, 401),
    ("POST", "/uploads", upload_body(name="users/someone-else/a.wav"), "", 403),
    ("POST", "/uploads", upload_body(size=10**12), "", 400),
    ("POST", "/uploads", upload_body(content_type="text/html"), "", 415),
    ("POST", "/uploads", {"name": 1}, "", 400),
]
IDS = [f"{m} {p} {'token' if t == '' else t or 'no token'} {s}" for m, p, _, t, s in REQUESTS]


def _token(token: str | None) -> str | None:
    return unsigned_token("made-up-user") if token == FORGED else token


@pytest.mark.parametrize(("method", "path", "body", "token", "status"), REQUESTS, ids=IDS)
def test_allowed_origin_is_echoed_on_every_reply(api: Api, method, path, body, token, status) -> None:
    reply = api.call(method, path, api.origin, _token(token), json=body)
    assert reply.status_code == status, reply.text
    assert reply.headers.get("Access-Control-Allow-Origin") == api.origin
    assert "Origin" in reply.headers.get("Vary", "")
    assert reply.headers["Content-Type"].startswith("application/json")
    if status >= 400:
        error = reply.json()["error"]
        assert error["code"] and error["message"]
    if status == 401:
        assert reply.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("origin", EVIL_ORIGINS)
@pytest.mark.parametrize(("method", "path", "body", "token", "status"), REQUESTS, ids=IDS)
def test_other_origins_get_no_cors_headers(api: Api, origin, method, path, body, token, status) -> None:
    reply = api.call(method, path, origin, _token(token), json=body)
    assert reply.status_code == status
    assert "Access-Control-Allow-Origin" not in reply.headers


def test_lookalike_origins_are_not_allowed(api: Api) -> None:
    parsed = urllib.parse.urlsplit(api.origin)
    lookalikes = [
        api.origin + ".evil.example",
        api.origin + "/",
        api.origin.upper(),
        f"{'https' if parsed.scheme == 'http' else 'http'}://{parsed.netloc}",
        f"{parsed.scheme}://evil.{parsed.netloc}",
    ]
    for origin in lookalikes:
        reply = api.call("GET", "/healthz", origin)
        assert "Access-Control-Allow-Origin" not in reply.headers, origin


def test_preflight_is_answered_for_the_allowed_origin_only(api: Api) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = api.call("OPTIONS", "/uploads", api.origin, headers=dict(ask))
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == api.origin
    assert "POST" in allowed.headers["Access-Control-Allow-Methods"]
    assert "content-type" in allowed.headers["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed.headers["Access-Control-Allow-Headers"].lower()
    assert "DELETE" in allowed.headers["Access-Control-Allow-Methods"]
    refused = api.call("OPTIONS", "/uploads", "https://evil.example", headers=dict(ask))
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Methods" not in refused.headers


def test_signed_url_binds_type_and_exact_size_and_expires_in_time(api: Api) -> None:
    size = 12_345
    before = datetime.now(UTC)
    reply = api.call("POST", "/uploads", api.origin, json=upload_body("sec/bound.webm", "audio/webm", size))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["method"] == "PUT"
    assert body["headers"]["Content-Type"] == "audio/webm"
    assert body["headers"]["x-goog-content-length-range"] == f"{size},{size}"
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(body["url"]).query))
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    signed = query["X-Goog-SignedHeaders"].split(";")
    assert {"content-type", "host", "x-goog-content-length-range"} <= set(signed)
    assert 0 < int(query["X-Goog-Expires"]) <= api.expiry_s
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert 0 < (expires_at - before).total_seconds() <= api.expiry_s + 5
    assert urllib.parse.unquote(urllib.parse.urlsplit(body["url"]).path).endswith("/sec/bound.webm")
    assert body["name"].startswith("users/") and body["name"].endswith("/sec/bound.webm")


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (upload_body(size=0), 400),
        (upload_body(size=-1), 400),
        (upload_body(size=1.5), 400),
        (upload_body(size="100"), 400),
        (upload_body(size=True), 400),
        (upload_body(size=None), 400),
        ("MAX+1", 400),
        (upload_body(content_type="text/html"), 415),
        (upload_body(content_type="application/octet-stream"), 415),
        (upload_body(content_type="image/png"), 415),
        (upload_body(content_type="application/x-sh; audio/wav"), 415),
        (upload_body(content_type="audio/webm\r\nX-Injected: 1"), 415),
        (upload_body(content_type="audio/webm; codecs=\u00e9"), 415),
        (upload_body(content_type=""), 400),
        (upload_body(name="../escape.wav"), 400),
        (upload_body(name="/root.wav"), 400),
        (upload_body(name="a\x00.wav"), 400),
        (upload_body(name="x" * 513), 400),
        ([], 400),
        ("not json", 400),
    ],
)
def test_refused_uploads_get_a_4xx_and_no_url(api: Api, body, status) -> None:
    if body == "MAX+1":
        body = upload_body(size=api.max_bytes + 1)
    if isinstance(body, str):
        reply = api.call(
            "POST", "/uploads", api.origin, data=body, headers={"Content-Type": "application/json"}
        )
    else:
        reply = api.call("POST", "/uploads", api.origin, json=body)
    assert reply.status_code == status, reply.text
    assert "url" not in reply.json()
    assert reply.headers.get("Access-Control-Allow-Origin") == api.origin


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "a/../../b.wav", "..", "/etc/passwd", "a\x00b", "a\nb", "a\x7fb", "x" * 513, ""],
)
def test_invalid_and_traversal_names_are_refused_by_the_reader(api: Api, name: str) -> None:
    reply = api.call("GET", "/results", api.origin, params={"name": name})
    assert reply.status_code == 400
    assert reply.json()["error"]["code"] == "invalid_name"


@pytest.mark.parametrize(
    "path", ["/results/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/results/..%2f..%2fhealthz"]
)
def test_path_traversal_in_the_url_finds_no_file(api: Api, path: str) -> None:
    """Sent raw (no client-side normalisation): the reply is a JSON 404, never a file."""
    parsed = urllib.parse.urlsplit(api.url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        conn.request("GET", parsed.path + path, headers={"Origin": api.origin})
        reply = conn.getresponse()
        body = reply.read()
    finally:
        conn.close()
    assert reply.status == 404
    assert json.loads(body)["error"]["code"] == "not_found"
    assert b"root:" not in body
