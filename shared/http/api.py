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
from collections.abc import Callable
from typing import Any

import flask

from shared import logs
from shared.accounts.identity import Unauthenticated, caller_uid
from shared.accounts.ownership import ForeignName, owned_name
from shared.config import settings
from shared.errors import InputError
from shared.faults import is_transient
from shared.http import app_check
from shared.http.cors import cors_headers, preflight_headers
from shared.http.openapi import CONTENT_TYPE_PATTERN, openapi_document
from shared.http.signing import signed_upload
from shared.names import result_key
from shared.pipeline.messages import public_fields, to_json_safe

# Firestore's client (a third of results_api's imports) loads with the first route that reads
# or erases: a session's first call is POST /uploads, which needs none of it, and the page's
# first polls run while the upload is still being processed. Not warmed after a reply: Cloud
# Run allots no CPU between requests, and locally it would compete with preprocess's start.

MAX_REQUEST_BYTES = 16 * 1024
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
PUBLIC_ROUTES = frozenset({"/healthz", "/openapi.json"})
# The query parameters each signed-in operation takes; any other is refused (a typo such as
# ?nmae= would otherwise list every result instead of reading one).
QUERY_PARAMETERS = {
    ("/results", "GET"): frozenset({"name", "limit", "page_token"}),
    ("/results", "DELETE"): frozenset({"name"}),
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> flask.Response:
    reply = flask.Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/json")
    reply.headers.update(headers or {})
    return reply


def _input_error(error: InputError) -> ApiError:
    return ApiError(400, error.code, error.message)


_NO_STORE = {"Cache-Control": "no-store"}


def _not_found(name: str) -> ApiError:
    return ApiError(404, "not_found", f"You have no upload named {name!r} (yet).")


def _own_name(uid: str, request: flask.Request) -> str:
    """The caller's full name for ?name= (short names are read under their prefix).

    Another account's name is reported as not found, never as forbidden.
    """
    name = request.args.get("name")
    if name is None:
        raise ApiError(400, "invalid_name", "Give the upload's name as ?name=.")
    try:
        return owned_name(uid, name)
    except InputError as error:
        raise _input_error(error) from None
    except ForeignName:
        raise _not_found(name) from None


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
    body = _json_object(request, '{"name", "label"}')
    name, label = body.get("name"), body.get("label")
    try:
        full_name = owned_name(uid, name)
    except InputError as error:
        raise _input_error(error) from None
    except ForeignName:
        raise _not_found(name) from None
    from shared.registry import feedback

    key, document = _owned_result(uid, full_name, name)
    labels = feedback.allowed_labels(document)
    if label not in labels:
        raise ApiError(400, "bad_request", f"label must be one of {', '.join(labels)}, not {label!r}.")
    stored = feedback.record(key, label)
    return _json(200, {"key": key, "name": full_name, "feedback": to_json_safe(stored)}, _NO_STORE)


def _json_object(request: flask.Request, shape: str) -> dict[str, Any]:
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        raise ApiError(413, "too_large", f"The request body is over {MAX_REQUEST_BYTES} bytes.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", f"Send a JSON object: {shape}.")
    return body


def _page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ApiError(
            400, "bad_request", f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}, not {raw!r}."
        )
    return int(raw)


def _list_results(request: flask.Request, uid: str) -> flask.Response:
    from shared.pipeline import results

    limit = _page_size(request.args.get("limit"))
    try:
        page = results.owned_page(uid, limit, request.args.get("page_token") or None)
    except results.BadPageToken as error:
        raise ApiError(400, "bad_request", str(error)) from None
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
    try:
        name = owned_name(uid, name)
    except InputError as error:
        raise _input_error(error) from None
    except ForeignName as error:
        raise ApiError(403, "forbidden", str(error)) from None
    if not isinstance(content_type, str) or not content_type.strip():
        raise ApiError(400, "bad_request", "content_type is required, e.g. audio/webm.")
    if not _content_type_allowed(content_type):
        raise ApiError(415, "unsupported_format", f"{content_type!r} is not an audio type.")
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ApiError(400, "bad_request", "size must be the file's size in bytes, a positive integer.")
    limit = settings().MAX_UPLOAD_BYTES
    if size > limit:
        # 400, not 413: the request is small; the file it announces is what is too large.
        raise ApiError(400, "too_large", f"The file is {size} bytes; the limit is {limit} bytes.")
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
    "/uploads": {"POST": create_upload},
    "/me": {"DELETE": delete_me},
    "/healthz": {"GET": healthz},
    "/openapi.json": {"GET": openapi},
}


def _authenticated_uid(request: flask.Request) -> str:
    try:
        return caller_uid(request.headers.get("Authorization"))
    except Unauthenticated as error:
        raise ApiError(401, "unauthenticated", str(error), {"WWW-Authenticate": "Bearer"}) from None


def _dispatch(request: flask.Request) -> flask.Response:
    path = request.path.rstrip("/") or "/"
    methods = ROUTES.get(path)
    if methods is None:
        raise ApiError(404, "not_found", f"No route {path}.")
    if request.method == "OPTIONS":
        return flask.Response(status=204, headers=preflight_headers(request.origin, settings().cors_origins))
    allow = ", ".join([*methods, "OPTIONS"])
    handler = methods.get(request.method)
    if handler is None:
        raise ApiError(405, "method_not_allowed", f"{path} allows {allow}.", {"Allow": allow})
    if path in PUBLIC_ROUTES:
        return handler(request, None)
    try:
        app_check.check(request.headers.get(app_check.HEADER))
    except app_check.Unattested as error:
        raise ApiError(401, "unattested", str(error)) from None
    uid = _authenticated_uid(request)
    unknown = sorted(set(request.args) - QUERY_PARAMETERS.get((path, request.method), frozenset()))
    if unknown:
        raise ApiError(
            400, "bad_request", f"{request.method} {path} takes no query parameter {unknown[0]!r}."
        )
    return handler(request, uid)


def handle(request: flask.Request) -> flask.Response:
    """Route one request; whatever happens, the reply is JSON with the CORS headers."""
    try:
        reply = _dispatch(request)
    except ApiError as error:
        reply = _json(error.status, {"error": {"code": error.code, "message": error.message}}, error.headers)
    except Exception as error:
        logs.log_api_error(request.method, request.path, error)
        if is_transient(error):
            status, code, message = 503, "unavailable", "A backing service is unavailable; try again."
        else:
            status, code, message = 500, "internal", "Internal error."
        reply = _json(status, {"error": {"code": code, "message": message}})
    reply.headers.update(cors_headers(request.origin, settings().cors_origins))
    return reply
