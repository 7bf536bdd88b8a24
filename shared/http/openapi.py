"""The OpenAPI 3 document of `results_api`, served at /openapi.json (and checked by schemathesis)."""

from __future__ import annotations

import functools
from typing import Any

from shared.config import settings
from shared.errors import ERROR_CODES
from shared.ml.labels import INCONCLUSIVE, LABEL_PATTERN
from shared.pipeline.messages import TRAINING_DATA

API_ERROR_CODES = sorted(
    {
        *ERROR_CODES,
        "bad_request",
        "not_found",
        "method_not_allowed",
        "unavailable",
        "unauthenticated",
        "unattested",
        "forbidden",
        "headers_too_large",
    }
)
# Every operation but /healthz and /openapi.json (and preflights) needs a Firebase ID token.
_SIGNED_IN = [{"firebaseIdToken": []}]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _error_reply(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


# Upload content types: audio/*, or video/webm and video/mp4 (browsers label recordings so),
# optionally with parameters; printable ASCII only, as HTTP headers (and V4 signing) need.
CONTENT_TYPE_PATTERN = r"^ *(audio/[!-:<-~]+|video/(webm|mp4)) *(;[ -~]*)?$"

# The name rule (shared/names.py, shared/accounts/ownership.py): 1–512 bytes of UTF-8 with the
# caller's prefix, no control characters, no leading or trailing `/`, no empty, `.` or `..`
# segment (JSON Schema counts characters, so the byte limit is in the description only).
NAME_SCHEMA = {
    "type": "string",
    "minLength": 1,
    "maxLength": 512,
    "pattern": r"^(?!/)(?!.*//)(?!.*/$)(?!(.*/)?\.\.?(/.*)?$)[^\u0000-\u001f\u007f-\u009f]+$",
    "description": "The object's name in the uploads bucket: 1–512 bytes of UTF-8 after your "
    "`users/{uid}/` prefix, no control characters, no leading or trailing `/`, no empty, `.` or "
    "`..` segment.",
}


def _name_parameter(required: bool) -> dict[str, Any]:
    return {
        "name": "name",
        "in": "query",
        "required": required,
        "description": "One of your uploads: its full name (`users/{uid}/…`, as POST /uploads "
        "replied) or the short name you chose (read as `users/{uid}/<name>`).",
        "schema": NAME_SCHEMA,
        "example": "2026-11-21T10-00-00.webm",
    }


_LIST_PARAMETERS = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "description": "Results per page (without `name`).",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
    {
        "name": "page_token",
        "in": "query",
        "required": False,
        "description": "`next_page_token` of the previous page (without `name`).",
        "schema": {"type": "string"},
    },
]

_RESULT = {
    "type": "object",
    "required": ["key", "name", "bucket", "generation", "status", "created_at", "updated_at"],
    "properties": {
        "key": {"type": "string", "description": 'sha256("<bucket>/<name>") in hex'},
        "name": {"type": "string"},
        "bucket": {"type": "string"},
        "generation": {"type": "integer"},
        "status": {"type": "string", "enum": ["received", "features_ready", "done", "failed"]},
        # Not an enum: the labels are the model's, and the registry's champion can change
        # without a deploy (the labels of the version that answered are in `model.labels`).
        "label": _nullable(
            {
                "type": "string",
                "pattern": f"^{LABEL_PATTERN.pattern}$",
                "description": "One of the labels of the model version that answered (`model.labels`), "
                f"or `{INCONCLUSIVE}` when its confidence is below the model's threshold.",
            }
        ),
        "confidence": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
        "probabilities": _nullable({"type": "object", "additionalProperties": {"type": "number"}}),
        "model": _nullable(
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "version": {"type": "string"},
                    "sha256": {"type": "string"},
                    "alias": {
                        "type": "string",
                        "enum": ["champion", "canary"],
                        "description": "Which alias of the model registry chose this version",
                    },
                    "fallback_from": {
                        "type": "string",
                        "description": "The version chosen first, when it could not load",
                    },
                    "training_data": {
                        "type": "string",
                        "enum": list(TRAINING_DATA),
                        "description": "What the model learned from; synthetic means it is a "
                        "demonstration model, not a medical diagnosis.",
                    },
                    "labels": {
                        "type": "array",
                        "items": {"type": "string", "pattern": f"^{LABEL_PATTERN.pattern}$"},
                        "description": "Every label this version can answer, in its output order "
                        "(the order of its probabilities)",
                    },
                    "negative_labels": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": 'The labels that mean "not what the model looks for"',
                    },
                    "display_names": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Names to show for some labels, from the model's metadata",
                    },
                },
            }
        ),
        "error": _nullable(
            {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "enum": list(ERROR_CODES)},
                    "message": {"type": "string"},
                },
            }
        ),
        "timings": {"type": "object", "additionalProperties": {"type": "number"}},
        "attempts": {"type": "integer", "minimum": 0},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "content_type": _nullable({"type": "string"}),
        "size": _nullable({"type": "integer"}),
        "audio": _nullable({"type": "object"}),
        "trace_id": _nullable({"type": "string"}),
        "owner": _nullable(
            {"type": "string", "description": "The uid of a `users/{uid}/…` upload; null for others"}
        ),
        "feedback": _nullable(
            {
                "type": "object",
                "properties": {"label": {"type": "string"}, "at": {"type": "string", "format": "date-time"}},
                "description": "What the owner said the recording really was (POST /results/feedback)",
            }
        ),
        "expire_at": _nullable(
            {"type": "string", "format": "date-time", "description": "When retention erases it"}
        ),
    },
}

_RESULT_PAGE = {
    "type": "object",
    "required": ["results", "next_page_token"],
    "properties": {
        "results": {"type": "array", "items": {"$ref": "#/components/schemas/Result"}},
        "next_page_token": _nullable({"type": "string"}),
    },
}


def _upload_request() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["name", "content_type", "size"],
        "properties": {
            "name": {**NAME_SCHEMA, "example": "alice/cough.webm"},
            "content_type": {
                "type": "string",
                "pattern": CONTENT_TYPE_PATTERN,
                "description": "audio/*, or video/webm or video/mp4 (how browsers label recordings)",
                "example": "audio/webm",
            },
            "size": {
                "type": "integer",
                "minimum": 1,
                "maximum": settings().MAX_UPLOAD_BYTES,
                "description": "The file's size in bytes; the upload URL accepts exactly this many.",
                "example": 48213,
            },
        },
    }


_SIGNED_UPLOAD = {
    "type": "object",
    "required": ["url", "method", "headers", "name", "bucket", "key", "expires_at"],
    "properties": {
        "url": {"type": "string", "description": "V4 signed URL; PUT the file there with `headers`"},
        "method": {"type": "string", "enum": ["PUT"]},
        "headers": {
            "type": "object",
            "required": ["Content-Type", "x-goog-content-length-range", "x-goog-if-generation-match"],
            "additionalProperties": {"type": "string"},
            "description": "Send exactly these: they are signed. `x-goog-if-generation-match: 0` "
            "makes the URL create-only (a second PUT to the name is refused with 412).",
        },
        "name": {"type": "string", "description": "The final name: always under `users/{uid}/`"},
        "bucket": {"type": "string"},
        "key": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
    },
}

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": API_ERROR_CODES},
                "message": {"type": "string"},
            },
        }
    },
}


_FEEDBACK_REQUEST = {
    "type": "object",
    "required": ["name", "label"],
    "properties": {
        "name": {**NAME_SCHEMA, "example": "2026-11-21T10-00-00.webm"},
        "label": {
            "type": "string",
            "description": "What the recording really was: one of the labels of the model that "
            "answered (the result's `model.labels`).",
            "example": "wet",
        },
    },
}

_FEEDBACK_REPLY = {
    "type": "object",
    "required": ["key", "name", "feedback"],
    "properties": {
        "key": {"type": "string"},
        "name": {"type": "string"},
        "feedback": {
            "type": "object",
            "required": ["label", "at"],
            "properties": {"label": {"type": "string"}, "at": {"type": "string", "format": "date-time"}},
        },
    },
}


def _preflight(summary: str) -> dict[str, Any]:
    return {"summary": summary, "responses": {"204": {"description": "CORS preflight answered"}}}


_UNAUTHENTICATED = _error_reply("No valid ID token: missing, expired, malformed, forged or revoked")
_NO_CONTENT = {"description": "Erased"}


@functools.cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "CoughCloud results API",
            "version": "1.0.0",
            "description": "Your classification results, signed upload URLs, and erasure of your data. "
            "Sign in with Firebase Authentication and send its ID token as `Authorization: Bearer`.",
        },
        "paths": {
            "/results": {
                "get": {
                    "summary": "One of your results (with `name`), or yours, newest first",
                    "security": _SIGNED_IN,
                    "parameters": [_name_parameter(required=False), *_LIST_PARAMETERS],
                    "responses": {
                        "200": {
                            "description": "The result document (with `name`), or a page of them",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/Result"},
                                            {"$ref": "#/components/schemas/ResultPage"},
                                        ]
                                    }
                                }
                            },
                        },
                        "400": _error_reply("Invalid name, limit or page_token"),
                        "401": _UNAUTHENTICATED,
                        "404": _error_reply(
                            "You have no upload of that name (another account's is not found either)"
                        ),
                        "503": _error_reply("The result store or the Auth service is unavailable"),
                    },
                },
                "delete": {
                    "summary": "Erase one of your uploads: every generation of the file, its result",
                    "security": _SIGNED_IN,
                    "parameters": [_name_parameter(required=True)],
                    "responses": {
                        "204": _NO_CONTENT,
                        "400": _error_reply("Invalid name"),
                        "401": _UNAUTHENTICATED,
                        "404": _error_reply("You have no upload of that name"),
                        "503": _error_reply("Storage, the result store or the Auth service is unavailable"),
                    },
                },
                "options": _preflight("CORS preflight"),
            },
            "/results/feedback": {
                "post": {
                    "summary": "Say what one of your recordings really was (stored on its result)",
                    "security": _SIGNED_IN,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/FeedbackRequest"}}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The feedback as stored",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Feedback"}}
                            },
                        },
                        "400": _error_reply("Malformed request, invalid name, or a label the model lacks"),
                        "401": _UNAUTHENTICATED,
                        "404": _error_reply("You have no upload of that name"),
                        "413": _error_reply("The request body itself is too large"),
                        "503": _error_reply("The result store or the Auth service is unavailable"),
                    },
                },
                "options": _preflight("CORS preflight"),
            },
            "/me": {
                "delete": {
                    "summary": "Erase all your uploads and results, then your account",
                    "security": _SIGNED_IN,
                    "responses": {
                        "204": _NO_CONTENT,
                        "401": _UNAUTHENTICATED,
                        "503": _error_reply("Storage, the result store or the Auth service is unavailable"),
                    },
                },
                "options": _preflight("CORS preflight"),
            },
            "/uploads": {
                "post": {
                    "summary": "A signed URL to PUT one recording, as `users/{uid}/<name>`",
                    "security": _SIGNED_IN,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/UploadRequest"}}
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Where and how to PUT the file",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/SignedUpload"}}
                            },
                        },
                        "400": _error_reply("Malformed request, invalid name, or a file over the size limit"),
                        "401": _UNAUTHENTICATED,
                        "403": _error_reply("A name under another account's `users/{uid}/` prefix"),
                        "413": _error_reply("The request body itself is too large"),
                        "415": _error_reply("Not an audio content type"),
                        "503": _error_reply("Signing is unavailable"),
                    },
                },
                "options": _preflight("CORS preflight"),
            },
            "/warm": {
                "post": {
                    "summary": "Start the pipeline's functions now, ahead of an upload (the page calls it "
                    "on sign-in; POST /uploads does the same)",
                    "description": "Answers at once, without waiting for the functions. Each results_api "
                    "instance warms each function at most once per WARM_UP_INTERVAL_S (60 s by default), "
                    "however often this is called; a failed warm-up is logged, never an error here.",
                    "security": _SIGNED_IN,
                    "responses": {
                        "204": {"description": "Asked (or asked recently enough already)"},
                        "401": _UNAUTHENTICATED,
                        "503": _error_reply("The Auth service is unavailable"),
                    },
                },
                "options": _preflight("CORS preflight"),
            },
            "/healthz": {
                "get": {
                    "summary": "Liveness",
                    "responses": {
                        "200": {
                            "description": "Up",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["status"],
                                        "properties": {"status": {"type": "string", "enum": ["ok"]}},
                                    }
                                }
                            },
                        }
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Result": _RESULT,
                "ResultPage": _RESULT_PAGE,
                "UploadRequest": _upload_request(),
                "SignedUpload": _SIGNED_UPLOAD,
                "FeedbackRequest": _FEEDBACK_REQUEST,
                "Feedback": _FEEDBACK_REPLY,
                "Error": _ERROR,
            },
            "securitySchemes": {
                "firebaseIdToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A Firebase Authentication ID token of the signed-in visitor",
                }
            },
        },
    }
