"""CORS on the running results_api: the page's origin (127.0.0.1 or localhost) and the test extra only."""

from __future__ import annotations

import pytest
import requests

from tests.accounts_support import bearer, new_visitor
from tests.conftest import TEST_STACK

pytestmark = pytest.mark.integration

REFUSED = ("http://evil.example", "null", "http://127.0.0.1:1")


def _allowed(env: dict[str, str]) -> list[str]:
    page_as_localhost = env["FRONTEND_URL"].replace("127.0.0.1", "localhost")
    return [env["FRONTEND_URL"], page_as_localhost, *TEST_STACK.extra_cors_origins]


def _requests(env: dict[str, str], origin: str) -> list[requests.Response]:
    """A found-nothing GET and a GET without a token (error replies), a health check and a
    preflight, from `origin`."""
    api = env["RESULTS_API_URL"]
    headers = {"Origin": origin}
    signed_in = {**headers, **bearer(new_visitor(env).id_token)}
    preflight = {
        **headers,
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    missing = {"name": "no/such/upload.wav"}
    return [
        requests.get(f"{api}/results", params=missing, headers=signed_in, timeout=10),
        requests.get(f"{api}/results", params=missing, headers=headers, timeout=10),
        requests.get(f"{api}/healthz", headers=headers, timeout=10),
        requests.options(f"{api}/uploads", headers=preflight, timeout=10),
    ]


def test_allowed_origins_get_cors_headers_on_every_reply_even_errors(env):
    for origin in _allowed(env):
        missing, unauthenticated, found, preflight = _requests(env, origin)
        assert missing.status_code == 404
        assert unauthenticated.status_code == 401
        assert found.status_code == 200
        assert preflight.status_code == 204
        for reply in (missing, unauthenticated, found, preflight):
            assert reply.headers.get("Access-Control-Allow-Origin") == origin
        assert "DELETE" in preflight.headers["Access-Control-Allow-Methods"]
        assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()


@pytest.mark.parametrize("origin", REFUSED)
def test_other_origins_get_no_cors_headers(env, origin):
    for reply in _requests(env, origin):
        assert "Access-Control-Allow-Origin" not in reply.headers
