"""Wire formats: the features message (topic `audio-features`) and the result document.

The result document is stored at `results/{key}` and published, as JSON, on `cough-results`.
Both formats are contracts (docs/design/contracts.md); extend them, never rename fields.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from shared.names import result_key

if TYPE_CHECKING:  # numpy is imported where a features message is built or read: results_api
    import numpy as np  # and dead_letter's upload events never need it (cold start, issue 12)

# The features message: v2 is a JSON header, a newline, then the MFCC matrix as raw
# little-endian float32 in row-major order (the header gives its shape): 40 KB for a 5 s clip
# where v1's base64 inside JSON took 54 KB. v1 (the matrix base64 in `features.data`) still
# decodes, so messages published before a deploy are classified after it.
FEATURES_SCHEMA = "coughcloud.features.v2"
FEATURES_SCHEMA_V1 = "coughcloud.features.v1"

Status = Literal["received", "features_ready", "done", "failed"]
FINISHED: frozenset[str] = frozenset({"done", "failed"})
# Fields of a result document that are for the model's owners only: never published on
# `cough-results` nor shown by the HTTP API (a shadow model's answer, re-scoring by other
# versions, and the top-level times that let queries find feedback and re-scored results).
PRIVATE_FIELDS: tuple[str, ...] = ("shadow", "scores", "scored_at", "feedback_at")
# What a result's model learned from (its `model.training_data`): synthetic sounds, real
# recordings, or both. Anything but "real" marks a demonstration model.
TRAINING_DATA: tuple[str, ...] = ("synthetic", "real", "mixed")


class MessageError(ValueError):
    """A message that does not follow its schema; redelivering it cannot help."""


@dataclass(frozen=True)
class Upload:
    bucket: str
    name: str
    generation: int
    size: int
    content_type: str

    @property
    def key(self) -> str:
        return result_key(self.bucket, self.name)


@dataclass(frozen=True)
class AudioFacts:
    sample_rate: int
    duration_s: float
    channels: int
    source_rate: int
    format: str


@dataclass(frozen=True)
class FeaturesMessage:
    upload: Upload
    audio: AudioFacts
    spec: dict[str, Any]
    features: np.ndarray
    trace_id: str
    sent_at: str
    # The version chosen for this upload {name, version, alias, shadow} (shared/registry/);
    # absent in messages from before the registry.
    model: dict[str, Any] | None = None

    @property
    def key(self) -> str:
        return self.upload.key

    def attributes(self) -> dict[str, str]:
        return {
            "key": self.key,
            "generation": str(self.upload.generation),
            "schema": FEATURES_SCHEMA,
            "trace_id": self.trace_id,
        }

    def to_bytes(self) -> bytes:
        import numpy as np

        matrix = np.ascontiguousarray(self.features, dtype="<f4")
        header = {
            "schema": FEATURES_SCHEMA,
            "upload": asdict(self.upload),
            "audio": asdict(self.audio),
            "spec": self.spec,
            "features": {"dtype": "float32", "shape": list(matrix.shape)},
            "trace_id": self.trace_id,
            "sent_at": self.sent_at,
        }
        if self.model is not None:
            header["model"] = self.model
        return json.dumps(header, separators=(",", ":")).encode() + b"\n" + matrix.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> FeaturesMessage:
        import numpy as np

        try:
            body, payload = _split(data)
            if body is None:
                raise MessageError("not a features message (a JSON object, or a JSON header and data)")
            if body.get("schema") not in (FEATURES_SCHEMA, FEATURES_SCHEMA_V1):
                raise MessageError(f"unknown schema {body.get('schema')!r}, expected {FEATURES_SCHEMA}")
            upload = Upload(**body["upload"])
            if not _has_contract_types(upload):
                raise MessageError(f"upload fields of the wrong types: {upload}")
            audio = AudioFacts(**body["audio"])
            matrix = body["features"]
            if matrix.get("dtype") != "float32":
                raise MessageError(f"features dtype {matrix.get('dtype')!r}, expected float32")
            shape = tuple(int(n) for n in matrix["shape"])
            if body["schema"] == FEATURES_SCHEMA_V1:
                payload = base64.b64decode(matrix["data"], validate=True)
            elif payload is None or len(payload) != 4 * math.prod(shape) or min(shape, default=0) < 0:
                raise MessageError(f"the features data does not hold a float32 matrix of shape {list(shape)}")
            features = np.frombuffer(payload, dtype="<f4").reshape(shape).astype(np.float32)
            if not isinstance(body["spec"], dict):
                raise MessageError("spec is not an object")
            model = body.get("model")
            if model is not None and not isinstance(model, dict):
                raise MessageError("model is not an object")
            trace_id, sent_at = str(body["trace_id"]), str(body["sent_at"])
            return cls(upload, audio, body["spec"], features, trace_id, sent_at, model)
        except MessageError:
            raise
        except (AttributeError, KeyError, TypeError, ValueError, RecursionError, binascii.Error) as error:
            raise MessageError(f"malformed features message: {type(error).__name__}: {error}") from None


def features_header(data: bytes) -> dict[str, Any] | None:
    """The JSON part of a features message of either version, or None when `data` is not one."""
    body, _ = _split(data)
    return body if body is not None and body.get("schema") in (FEATURES_SCHEMA, FEATURES_SCHEMA_V1) else None


def _split(data: bytes) -> tuple[dict[str, Any] | None, bytes | None]:
    """(JSON object, binary payload): a whole-JSON message (v1) has no payload."""
    for text, payload in ((data, None), data.partition(b"\n")[::2]):
        try:
            body = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: a poison of deeply nested JSON
            continue
        return (body, payload) if isinstance(body, dict) else (None, None)
    return None, None


def _has_contract_types(upload: Upload) -> bool:
    """A poison message with e.g. a null generation must fail parsing, not every later step."""
    strings = (upload.bucket, upload.name, upload.content_type)
    return all(isinstance(v, str) for v in strings) and all(
        type(v) is int for v in (upload.generation, upload.size)
    )


def to_json_safe(value: Any) -> Any:
    """Firestore values (timestamps) as JSON: datetimes become RFC 3339 strings."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: to_json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_safe(v) for v in value]
    return value


def public_fields(document: dict[str, Any]) -> dict[str, Any]:
    """The result document without its PRIVATE_FIELDS."""
    return {name: value for name, value in document.items() if name not in PRIVATE_FIELDS}


def result_message(key: str, document: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The `cough-results` message for a finished document: its JSON, plus routing attributes."""
    body = {"key": key, **to_json_safe(public_fields(document))}
    attributes = {
        "key": key,
        "generation": str(document["generation"]),
        "status": str(document["status"]),
        "label": str(document.get("label") or ""),
        "owner": str(document.get("owner") or ""),  # a subscriber can filter one account's results
    }
    return json.dumps(body, separators=(",", ":")).encode(), attributes
