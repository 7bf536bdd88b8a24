"""Raw HTTP requests of every shape to results_api on the running local stack (its real
server: gunicorn under functions-framework, with the request limits of local_stack/server.py).

Hypothesis draws the method (standard or any other token), the path (every route, near
misses, percent-encoded arbitrary text), a query string of arbitrary Unicode (the routes'
own parameters among others), the headers (a real, forged or junk token; arbitrary extra
ones, sometimes enough to exceed the API's header budget), and the body: JSON of arbitrary
shape, nesting far deeper than any parser's recursion, arbitrary bytes or text past the size
limit, sent with a Content-Length or chunked. The invariant: never a 5xx, and every reply is
JSON carrying the CORS headers of the page's own origin.

What is drawn stays within what HTTP/1.1 lets a client send and the server's own limits
(a header line ≤ 8,190 bytes): beyond those the server answers first, without the app (its
own test: test_api_hardening.py). The example count keeps this file to seconds.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from shared.http.api import ROUTES
from tests.accounts_support import new_visitor, unsigned_token

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    origin: str
    token: str
    project: str


@pytest.fixture(scope="module")
def target(stack: Any) -> Target:
    url = urllib.parse.urlsplit(stack.env["RESULTS_API_URL"])
    return Target(
        url.hostname or "127.0.0.1",
        url.port or 80,
        stack.env["FRONTEND_URL"].rstrip("/"),
        new_visitor(stack.env).id_token,
        stack.env["GOOGLE_CLOUD_PROJECT"],
    )


TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
UNICODE = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)  # no lone surrogates
LATIN1_VALUE = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=200
)

METHODS = st.sampled_from(["GET", "POST", "DELETE", "PUT", "PATCH", "HEAD", "OPTIONS", "TRACE"]) | st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=12
)
PATHS = (
    st.sampled_from([*ROUTES, "/", "/nowhere", "/results/", "/results//feedback", "/me/x", "/robots.txt"])
    | st.lists(UNICODE, min_size=1, max_size=4).map(
        lambda parts: "/" + "/".join(urllib.parse.quote(p) for p in parts)
    )
    | st.sampled_from(["/%2e%2e/%2e%2e/etc/passwd", "/results/..%2f..%2fhealthz", "/%ff%fe", "/results%00"])
)
QUERIES = st.dictionaries(
    st.sampled_from(["name", "limit", "page_token"]) | UNICODE,
    UNICODE | st.sampled_from(["²", "1", "100", "0"]),
    max_size=4,
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | UNICODE,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(UNICODE, inner, max_size=5),
    max_leaves=30,
)
BODIES = st.one_of(
    st.none(),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {"name": UNICODE, "label": UNICODE, "content_type": st.sampled_from(["audio/wav", "x"]) | UNICODE},
        optional={"size": st.integers() | UNICODE},
    ).map(lambda value: json.dumps(value).encode()),
    st.integers(1, 20_000).map(lambda depth: b"[" * depth + b"]" * depth),  # past 16 KiB from 8,193
    st.binary(max_size=2_000),
    st.integers(16_000, 40_000).map(lambda size: b'{"name": "' + b"x" * size + b'"}'),
)


@st.composite
def headers(draw: st.DrawFn, target: Target) -> dict[str, str]:
    chosen: dict[str, str] = {"Origin": target.origin}
    authorization = draw(
        st.sampled_from(["none", "real", "forged", "junk", "scheme"]),
    )
    if authorization == "real":
        chosen["Authorization"] = f"Bearer {target.token}"
    elif authorization == "forged":
        chosen["Authorization"] = f"Bearer {unsigned_token(draw(UNICODE.filter(bool)), target.project)}"
    elif authorization == "junk":
        chosen["Authorization"] = "Bearer " + draw(LATIN1_VALUE)
    elif authorization == "scheme":
        chosen["Authorization"] = draw(LATIN1_VALUE)
    if draw(st.booleans()):
        chosen["Content-Type"] = draw(
            st.sampled_from(["application/json", "text/plain", "multipart/form-data"]) | LATIN1_VALUE
        )
    extra = draw(st.dictionaries(st.text(TOKEN_CHARS, min_size=1, max_size=20), LATIN1_VALUE, max_size=5))
    reserved = {
        "host",
        "content-length",
        "transfer-encoding",
        "origin",
        "authorization",
        "content-type",
        "expect",
        "connection",
    }
    chosen.update({k: v.strip() for k, v in extra.items() if k.lower() not in reserved})
    for i in range(draw(st.integers(0, 6))):  # header lines of up to 4,000 bytes: past the budget at five
        chosen[f"X-Pad-{i}"] = "p" * draw(st.integers(0, 4_000))
    return chosen


def send(
    target: Target, method: str, url: str, headers: dict[str, str], body: bytes | None, chunked: bool
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(target.host, target.port, timeout=30)
    try:
        if body is not None and chunked:
            pieces = (body[i : i + 4096] for i in range(0, len(body), 4096))
            conn.request(method, url, body=pieces, headers=headers, encode_chunked=True)
        else:
            conn.request(method, url, body=body, headers=headers)
        reply = conn.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        conn.close()


# 400 examples: ~15 s on the shared two-core machine (`pytest --durations`), most of it the server.
@hypothesis_settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_request_gets_a_5xx_and_every_reply_is_json_with_cors(target: Target, data: st.DataObject) -> None:
    method = data.draw(METHODS, "method")
    query = urllib.parse.urlencode(data.draw(QUERIES, "query"))
    url = data.draw(PATHS, "path") + (f"?{query}" if query else "")
    sent_headers = data.draw(headers(target), "headers")
    body = data.draw(BODIES, "body")
    chunked = data.draw(st.booleans(), "chunked")
    status, reply_headers, reply_body = send(target, method, url, sent_headers, body, chunked)
    assert status < 500, (status, reply_body[:300])
    assert reply_headers.get("access-control-allow-origin") == target.origin, (status, reply_headers)
    if status == 204 or method == "HEAD":
        return
    assert reply_headers.get("content-type", "").startswith("application/json"), (status, reply_body[:300])
    reply = json.loads(reply_body)
    if status >= 400:
        assert reply["error"]["code"] and reply["error"]["message"]
