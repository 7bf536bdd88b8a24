"""The OpenAPI 3 document of `results_api`, served at /openapi.json (and checked by schemathesis)."""

from __future__ import annotations

import functools
from typing import Any

from shared.errors import ERROR_CODES
from shared.messages import INCONCLUSIVE, LABELS

API_ERROR_CODES = sorted({*ERROR_CODES, "bad_request", "not_found", "method_not_allowed", "unavailable"})


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _error_reply(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_NAME_PARAMETER = {
    "name": "name",
    "in": "query",
    "required": True,
    "description": "The uploaded object's name, as the client chose it (1–512 bytes of UTF-8).",
    "schema": {"type": "string"},
    "example": "alice/2026-11-21T10-00-00.webm",
}

_RESULT = {
    "type": "object",
    "required": ["key", "name", "bucket", "generation", "status", "created_at", "updated_at"],
    "properties": {
        "key": {"type": "string", "description": 'sha256("<bucket>/<name>") in hex'},
        "name": {"type": "string"},
        "bucket": {"type": "string"},
        "generation": {"type": "integer"},
        "status": {"type": "string", "enum": ["received", "features_ready", "done", "failed"]},
        "label": _nullable({"type": "string", "enum": [*LABELS, INCONCLUSIVE]}),
        "confidence": _nullable({"type": "number", "minimum": 0, "maximum": 1}),
        "probabilities": _nullable({"type": "object", "additionalProperties": {"type": "number"}}),
        "model": _nullable(
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "version": {"type": "string"},
                    "sha256": {"type": "string"},
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
    },
}

_UPLOAD_REQUEST = {
    "type": "object",
    "required": ["name", "content_type", "size"],
    "properties": {
        "name": {"type": "string", "example": "alice/cough.webm"},
        "content_type": {"type": "string", "example": "audio/webm"},
        "size": {"type": "integer", "minimum": 1, "example": 48213},
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
            "required": ["Content-Type", "x-goog-content-length-range"],
            "additionalProperties": {"type": "string"},
        },
        "name": {"type": "string"},
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


def _preflight(summary: str) -> dict[str, Any]:
    return {"summary": summary, "responses": {"204": {"description": "CORS preflight answered"}}}


@functools.cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "CoughCloud results API",
            "version": "1.0.0",
            "description": "Read classification results and get signed upload URLs.",
        },
        "paths": {
            "/results": {
                "get": {
                    "summary": "The result document of an upload, in any status",
                    "parameters": [_NAME_PARAMETER],
                    "responses": {
                        "200": {
                            "description": "The result document",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/Result"}}
                            },
                        },
                        "400": _error_reply("Invalid name"),
                        "404": _error_reply("No upload of that name"),
                        "503": _error_reply("The result store is unavailable"),
                    },
                },
                "options": _preflight("CORS preflight"),
            },
            "/uploads": {
                "post": {
                    "summary": "A signed URL to PUT one recording into the uploads bucket",
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
                        "400": _error_reply("Malformed request or invalid name"),
                        "413": _error_reply("The file is larger than the limit"),
                        "415": _error_reply("Not an audio content type"),
                        "503": _error_reply("Signing is unavailable"),
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
                "UploadRequest": _UPLOAD_REQUEST,
                "SignedUpload": _SIGNED_UPLOAD,
                "Error": _ERROR,
            }
        },
    }
