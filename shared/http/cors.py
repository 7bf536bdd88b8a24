"""CORS for the HTTP reader: only origins listed in CORS_ALLOWED_ORIGINS (`*` only if listed).

The headers go on every reply, errors included: without them a browser reports a CORS
failure instead of the real error (docs/design/lessons.md).
"""

from __future__ import annotations

ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS"
# Authorization: every route but /healthz and /openapi.json takes a Firebase ID token;
# X-Firebase-AppCheck: the page's App Check token, when required (shared/http/app_check.py).
ALLOWED_HEADERS = "Authorization, Content-Type, X-Firebase-AppCheck"
PREFLIGHT_MAX_AGE_S = 3600


def cors_headers(origin: str | None, allowed: frozenset[str]) -> dict[str, str]:
    """Headers for a reply to a request from `origin` (none when the origin is not allowed)."""
    if "*" in allowed:
        return {"Access-Control-Allow-Origin": "*"}
    headers = {"Vary": "Origin"}
    if origin and origin in allowed:
        headers["Access-Control-Allow-Origin"] = origin
    return headers


def preflight_headers(origin: str | None, allowed: frozenset[str]) -> dict[str, str]:
    """Headers for an OPTIONS preflight: the allowed methods and headers, for allowed origins only."""
    headers = cors_headers(origin, allowed)
    if "Access-Control-Allow-Origin" in headers:
        headers.update(
            {
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE_S),
            }
        )
    return headers
