"""shared/http/cors.py: only listed origins get CORS headers; `*` only when listed."""

from __future__ import annotations

from shared.http.cors import cors_headers, preflight_headers

ALLOWED = frozenset({"https://app.example", "http://localhost:5173"})


def test_listed_origin_is_echoed_with_vary() -> None:
    assert cors_headers("https://app.example", ALLOWED) == {
        "Access-Control-Allow-Origin": "https://app.example",
        "Vary": "Origin",
    }


def test_unlisted_or_missing_origin_gets_only_vary() -> None:
    assert cors_headers("https://evil.example", ALLOWED) == {"Vary": "Origin"}
    assert cors_headers("https://app.example.evil", ALLOWED) == {"Vary": "Origin"}
    assert cors_headers(None, ALLOWED) == {"Vary": "Origin"}
    assert cors_headers("https://app.example", frozenset()) == {"Vary": "Origin"}


def test_wildcard_only_when_configured() -> None:
    assert cors_headers("https://anyone.example", frozenset({"*"})) == {"Access-Control-Allow-Origin": "*"}


def test_preflight_lists_methods_and_headers_for_allowed_origins_only() -> None:
    allowed = preflight_headers("http://localhost:5173", ALLOWED)
    assert allowed["Access-Control-Allow-Methods"] == "GET, POST, DELETE, OPTIONS"
    assert allowed["Access-Control-Allow-Headers"] == "Authorization, Content-Type, X-Firebase-AppCheck"
    assert int(allowed["Access-Control-Max-Age"]) > 0
    assert preflight_headers("https://evil.example", ALLOWED) == {"Vary": "Origin"}
