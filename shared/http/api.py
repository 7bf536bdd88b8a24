"""The HTTP API's routes: the caller's results, signed upload URLs, erasure, health, OpenAPI.

Every route but /healthz and /openapi.json (and CORS preflights) needs a Firebase ID token
(`Authorization: Bearer …`), and serves only the caller's own uploads, `users/{uid}/…`.
Anyone else's, existing or not, is 404: a reply never tells whether a name exists.
Every reply is JSON (204s have no body) and carries the CORS headers for its origin, errors
included; an error is `{"error": {"code", "message"}}` with a matching status, never HTML.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import IO, Any

import flask
from werkzeug.exceptions import HTTPException

from shared import logs
from shared.accounts.identity import caller_uid
from shared.accounts.ownership import ForeignName, owned_name
from shared.config import settings
from shared.errors import InputError
from shared.faults import is_transient
from shared.http import app_check
from shared.http.cors import cors_headers, preflight_headers
from shared.http.errors import (
    BadRequest,
    BodyTooLarge,
    HeadersTooLarge,
    MethodNotAllowed,
    NotFound,
    UnsupportedType,
    refusal,
)
from shared.http.openapi import CONTENT_TYPE_PATTERN, openapi_document
from shared.http.signing import signed_upload
from shared.http.warm import post_warm, warming
from shared.names import result_key
from shared.pipeline.messages import public_fields, to_json_safe

# Firestore's client (a third of results_api's imports) loads with the first route that reads
# or erases: a session's first call is POST /uploads, which needs none of it, and the page's
# first polls run while the upload is still being processed. Not warmed after a reply: Cloud
# Run allots no CPU between requests, and locally it would compete with preprocess's start.

MAX_REQUEST_BYTES = 16 * 1024
# All request header lines together (the page sends ~2 KiB, most of it the ID token); the
# server refuses a single line over 8,190 bytes before the app sees it (local_stack/server.py).
MAX_HEADER_BYTES = 16 * 1024
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
PUBLIC_ROUTES = frozenset({"/healthz", "/openapi.json"})
# The query parameters each signed-in operation takes; any other is refused (a typo such as
# ?nmae= would otherwise list every result instead of reading one).
QUERY_PARAMETERS = {
    ("/results", "GET"): frozenset({"name", "limit", "page_token"}),
    ("/results", "DELETE"): frozenset({"name"}),
}
# The operations that look the caller's token up in the Auth service (revoked, disabled or
# deleted: refused): those that create, change or erase. Reads skip that backend call
# (shared/accounts/identity.py says what that trades).
CHECKS_REVOCATION = frozenset(
    {("/uploads", "POST"), ("/results/feedback", "POST"), ("/results", "DELETE"), ("/me", "DELETE")}
)


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> flask.Response:
    reply = flask.Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    reply.headers.update(headers or {})
    return reply


_NO_STORE = {"Cache-Control": "no-store"}


def _not_found(name: object) -> NotFound:
    return NotFound(f"You have no upload named {name!r} (yet).")


def _readable_name(uid: str, name: object) -> str:
    """The caller's full name for `name` (short names are read under their prefix).

    Another account's name is reported as not found, never as forbidden.
    """
    try:
        return owned_name(uid, name)
    except ForeignName:
        raise _not_found(name) from None


def _own_name(uid: str, request: flask.Request) -> str:
    """The caller's full name for ?name=."""
    name = request.args.get("name")
    if name is None:
        raise BadRequest("Give the upload's name as ?name=.")
    return _readable_name(uid, name)


def get_results(request: flask.Request, uid: str) -> flask.Response:
    """?name=: one of the caller's results; without it, a page of them, newest first."""
    if "name" not in request.args:
        return _list_results(request, uid)
    key, document = _owned_result(uid, _own_name(uid, request), request.args["name"])
    return _json(200, {"key": key, **to_json_safe(public_fields(document))}, _NO_STORE)


def _owned_result(uid: str, name: str, asked: str) -> tuple[str, dict[str, Any]]:
    """The caller's result of `name` (their full name for `asked`); 404 when it is not theirs."""
    from shared.pipeline import results

    key = result_key(settings().UPLOAD_BUCKET, name)
    document = results.get(key)
    if document is None or document.get("owner") != uid:
        raise _not_found(asked)
    return key, document


def post_feedback(request: flask.Request, uid: str) -> flask.Response:
    """The owner says what a recording really was: {"name", "label"} → `feedback` on its result."""
    from google.api_core.exceptions import NotFound as Gone

    from shared.registry import feedback

    body = _json_object(request, '{"name", "label"}')
    name, label = body.get("name"), body.get("label")
    full_name = _readable_name(uid, name)
    key, document = _owned_result(uid, full_name, name)
    labels = feedback.allowed_labels(document)
    if label not in labels:
        raise BadRequest(feedback.refusal(labels, label))
    try:
        stored = feedback.record(key, label)
    except Gone:  # erased meanwhile (a DELETE racing this call)
        raise _not_found(name) from None
    return _json(200, {"key": key, "name": full_name, "feedback": to_json_safe(stored)}, _NO_STORE)


class _BoundedInput:
    """The WSGI input, ending after `limit` bytes whatever the framing (Content-Length or
    chunked): neither the route nor functions-framework, which reads the rest of every
    request after the reply, ever holds more of a body than that."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream, self._left = stream, limit

    def read(self, size: int | None = -1) -> bytes:
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.read(wanted) if wanted else b""
        self._left -= len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        data = self._stream.readline(wanted) if wanted else b""
        self._left -= len(data)
        return data


def _bound_the_body(request: flask.Request) -> None:
    """Cap what can be read of the body at MAX_REQUEST_BYTES + 1 (one byte tells "over")."""
    environ, cap = request.environ, MAX_REQUEST_BYTES + 1
    environ["wsgi.input"] = _BoundedInput(environ["wsgi.input"], cap)
    if (request.content_length or 0) > cap:  # so werkzeug expects no more than can be read
        environ["CONTENT_LENGTH"] = str(cap)


def _json_object(request: flask.Request, shape: str) -> dict[str, Any]:
    data = request.stream.read(MAX_REQUEST_BYTES + 1)
    if len(data) > MAX_REQUEST_BYTES:
        raise BodyTooLarge(f"The request body is over {MAX_REQUEST_BYTES} bytes.")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep to parse
        body = None
    if not isinstance(body, dict):
        raise BadRequest(f"Send a JSON object: {shape}.")
    return body


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not re.fullmatch(r"[0-9]{1,3}", raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}, not {raw!r}.")
    return int(raw)


def _list_results(request: flask.Request, uid: str) -> flask.Response:
    from shared.pipeline import results

    limit = _page_size(request.args.get("limit"))
    try:
        page = results.owned_page(uid, limit, request.args.get("page_token") or None)
    except results.BadPageToken as error:
        raise BadRequest(str(error)) from None
    body = {
        "results": [
            {"key": key, **to_json_safe(public_fields(document))} for key, document in page.documents
        ],
        "next_page_token": page.next_token,
    }
    return _json(200, body, _NO_STORE)


def delete_result(request: flask.Request, uid: str) -> flask.Response:
    """Erase one of the caller's uploads: every generation of the object, the result, its markers."""
    from shared.accounts import erasure

    name = _own_name(uid, request)
    if not erasure.erase_upload(name):
        raise _not_found(request.args["name"])
    return flask.Response(status=204)


def delete_me(request: flask.Request, uid: str) -> flask.Response:
    """Erase everything of the caller, then the account itself."""
    from shared.accounts import erasure

    erasure.erase_account(uid)
    return flask.Response(status=204)


def _content_type_allowed(content_type: str) -> bool:
    """audio/*, video/webm or video/mp4, in printable ASCII (it becomes a signed header)."""
    return re.fullmatch(CONTENT_TYPE_PATTERN, content_type, flags=re.IGNORECASE) is not None


def _upload_request(request: flask.Request, uid: str) -> tuple[str, str, int]:
    body = _json_object(request, '{"name", "content_type", "size"}')
    name, content_type, size = body.get("name"), body.get("content_type"), body.get("size")
    name = owned_name(uid, name)  # another account's prefix: ForeignName, 403
    if not isinstance(content_type, str) or not content_type.strip():
        raise BadRequest("content_type is required, e.g. audio/webm.")
    if not _content_type_allowed(content_type):
        raise UnsupportedType(f"{content_type!r} is not an audio type.")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise BadRequest("size must be the file's size in bytes, a positive integer.")
    limit = settings().MAX_UPLOAD_BYTES
    if size > limit:
        # 400, not 413: the request is small; the file it announces is what is too large.
        raise InputError("too_large", f"The file is {size} bytes; the limit is {limit} bytes.")
    return name, content_type, size


def create_upload(request: flask.Request, uid: str) -> flask.Response:
    """A signed URL for `users/{uid}/<name>`: a caller can never get one for another's name."""
    name, content_type, size = _upload_request(request, uid)
    bucket = settings().UPLOAD_BUCKET
    signed = signed_upload(bucket, name, content_type, size)
    key = result_key(bucket, name)
    logs.log_upload_url_issued(key, name, content_type, size)
    body = {
        "url": signed.url,
        "method": "PUT",
        "headers": signed.headers,
        "name": name,
        "bucket": bucket,
        "key": key,
        "expires_at": signed.expires_at.isoformat(),
    }
    return _json(200, body, _NO_STORE)


def healthz(request: flask.Request, uid: str | None) -> flask.Response:
    return _json(200, {"status": "ok"})


def openapi(request: flask.Request, uid: str | None) -> flask.Response:
    return _json(200, openapi_document())


ROUTES: dict[str, dict[str, Callable[[flask.Request, Any], flask.Response]]] = {
    "/results": {"GET": get_results, "DELETE": delete_result},
    "/results/feedback": {"POST": post_feedback},
    "/uploads": {"POST": warming(create_upload)},
    "/warm": {"POST": post_warm},
    "/me": {"DELETE": delete_me},
    "/healthz": {"GET": healthz},
    "/openapi.json": {"GET": openapi},
}


def _header_bytes(request: flask.Request) -> int:
    return sum(len(name) + len(value) + 4 for name, value in request.headers.items())


def _dispatch(request: flask.Request) -> flask.Response:
    if _header_bytes(request) > MAX_HEADER_BYTES:
        raise HeadersTooLarge(f"The request's headers are over {MAX_HEADER_BYTES} bytes in all.")
    path = request.path.rstrip("/") or "/"
    methods = ROUTES.get(path)
    if methods is None:
        raise NotFound(f"No route {path}.")
    if request.method == "OPTIONS":
        return flask.Response(status=204, headers=preflight_headers(request.origin, settings().cors_origins))
    allow = ", ".join([*methods, "OPTIONS"])
    handler = methods.get(request.method)
    if handler is None:
        raise MethodNotAllowed(f"{path} allows {allow}.", {"Allow": allow})
    if path in PUBLIC_ROUTES:
        return handler(request, None)
    app_check.check(request.headers.get(app_check.HEADER))
    fresh = (path, request.method) in CHECKS_REVOCATION
    uid = caller_uid(request.headers.get("Authorization"), check_revoked=fresh)
    unknown = sorted(set(request.args) - QUERY_PARAMETERS.get((path, request.method), frozenset()))
    if unknown:
        raise BadRequest(f"{request.method} {path} takes no query parameter {unknown[0]!r}.")
    return handler(request, uid)


_TRACE = re.compile(r"(?:[0-9a-f]{2}-)?([0-9a-f]{32})[-/]?", re.IGNORECASE)


def trace_id(request: flask.Request) -> str:
    """The request's trace id (Cloud Run's X-Cloud-Trace-Context, or W3C traceparent), or a new one."""
    for header in ("X-Cloud-Trace-Context", "traceparent"):
        found = _TRACE.match(request.headers.get(header, ""))
        if found:
            return found.group(1).lower()
    return uuid.uuid4().hex


def framework_error(error: HTTPException) -> flask.Response:
    """What functions-framework or Flask refuses before `handle()` runs (functions-framework
    answers /robots.txt and /favicon.ico itself): the same JSON error shape, with CORS."""
    status = error.code or 500
    code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(status, "bad_request")
    reply = _json(status, {"error": {"code": code, "message": error.description or error.name}})
    reply.headers.update(cors_headers(flask.request.origin, settings().cors_origins))
    return reply


def handle(request: flask.Request) -> flask.Response:
    """Route one request; whatever happens, the reply is JSON with the CORS headers.

    Known refusals get the status errors.STATUSES gives their kind; anything else is logged
    with a trace id and answered 503 (a backing service is down) or 500 (a bug), never HTML.
    """
    try:
        _bound_the_body(request)
        reply = _dispatch(request)
    except Exception as error:
        known = refusal(error)
        if known is not None:
            body = {"error": {"code": known.code, "message": known.message}}
            reply = _json(known.status, body, known.headers)
        else:
            trace = trace_id(request)
            logs.log_api_error(request.method, request.path, error, trace)
            if is_transient(error):
                status, code, message = 503, "unavailable", "A backing service is unavailable; try again."
            else:
                status, code, message = 500, "internal", f"Internal error (trace {trace})."
            reply = _json(status, {"error": {"code": code, "message": message}})
    reply.headers.update(cors_headers(request.origin, settings().cors_origins))
    return reply
