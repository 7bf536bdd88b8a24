"""The HTTP reader's routes: results by name, signed upload URLs, health, the OpenAPI document.

Every reply is JSON and carries the CORS headers for its origin, errors included; an
error is `{"error": {"code", "message"}}` with a matching status, never an HTML page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import flask

from shared import logs
from shared.config import settings
from shared.errors import InputError
from shared.faults import is_transient
from shared.http.cors import cors_headers, preflight_headers
from shared.http.openapi import CONTENT_TYPE_PATTERN, openapi_document
from shared.http.signing import signed_upload
from shared.names import result_key, validate_object_name
from shared.pipeline.messages import to_json_safe

MAX_REQUEST_BYTES = 16 * 1024


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


def get_result(request: flask.Request) -> flask.Response:
    name = request.args.get("name")
    if name is None:
        raise ApiError(400, "invalid_name", "Give the upload's name as ?name=.")
    try:
        validate_object_name(name)
    except InputError as error:
        raise _input_error(error) from None
    # Firestore's client (a third of this function's imports) loads on the first read: a
    # session's first call is POST /uploads, and the page's first polls run while the upload
    # is still being processed. Not warmed after the first reply: Cloud Run allots no CPU
    # between requests, and locally it would compete with preprocess's start.
    from shared.pipeline import results

    key = result_key(settings().UPLOAD_BUCKET, name)
    document = results.get(key)
    if document is None:
        raise ApiError(404, "not_found", f"No upload named {name!r} is known (yet).")
    return _json(200, {"key": key, **to_json_safe(document)}, {"Cache-Control": "no-store"})


def _content_type_allowed(content_type: str) -> bool:
    """audio/*, video/webm or video/mp4, in printable ASCII (it becomes a signed header)."""
    return re.fullmatch(CONTENT_TYPE_PATTERN, content_type, flags=re.IGNORECASE) is not None


def _upload_request(request: flask.Request) -> tuple[str, str, int]:
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        raise ApiError(413, "too_large", f"The request body is over {MAX_REQUEST_BYTES} bytes.")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", 'Send a JSON object: {"name", "content_type", "size"}.')
    name, content_type, size = body.get("name"), body.get("content_type"), body.get("size")
    try:
        validate_object_name(name)
    except InputError as error:
        raise _input_error(error) from None
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


def create_upload(request: flask.Request) -> flask.Response:
    name, content_type, size = _upload_request(request)
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
    return _json(200, body, {"Cache-Control": "no-store"})


def healthz(request: flask.Request) -> flask.Response:
    return _json(200, {"status": "ok"})


def openapi(request: flask.Request) -> flask.Response:
    return _json(200, openapi_document())


ROUTES: dict[str, dict[str, Callable[[flask.Request], flask.Response]]] = {
    "/results": {"GET": get_result},
    "/uploads": {"POST": create_upload},
    "/healthz": {"GET": healthz},
    "/openapi.json": {"GET": openapi},
}


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
    return handler(request)


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
