"""shared/pipeline/messages.py: the features message round-trips exactly and refuses malformed input."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shared.ml.spec import FeatureSpec
from shared.names import result_key
from shared.pipeline.messages import (
    FEATURES_SCHEMA,
    FEATURES_SCHEMA_V1,
    AudioFacts,
    FeaturesMessage,
    MessageError,
    Upload,
    features_header,
    result_message,
    to_json_safe,
)
from training.dataset import FEATURES

UPLOAD = Upload("uploads", "alice/ä cough.webm", 1795255474935571, 48213, "audio/webm;codecs=opus")
AUDIO = AudioFacts(16000, 2.5, 2, 48000, "webm/opus")


def message(features: np.ndarray) -> FeaturesMessage:
    return FeaturesMessage(
        UPLOAD, AUDIO, FEATURES.to_dict(), features, "ab" * 16, "2026-11-21T10:00:00+00:00"
    )


@given(arrays(np.float32, st.tuples(st.integers(1, 20), st.integers(1, 50)), elements=st.floats(width=32)))
def test_features_round_trip_bit_for_bit(features: np.ndarray) -> None:
    decoded = FeaturesMessage.from_bytes(message(features).to_bytes())
    assert decoded.features.dtype == np.float32
    np.testing.assert_array_equal(decoded.features, features)
    assert decoded.upload == UPLOAD
    assert decoded.audio == AUDIO
    assert FeatureSpec.from_dict(decoded.spec) == FEATURES


def v1_body(sent: FeaturesMessage) -> dict:
    """The message as a publisher before v2 wrote it: one JSON object, the matrix in base64."""
    body = features_header(sent.to_bytes())
    matrix = np.ascontiguousarray(sent.features, dtype="<f4")
    return {
        **body,
        "schema": FEATURES_SCHEMA_V1,
        "features": {**body["features"], "data": base64.b64encode(matrix.tobytes()).decode()},
    }


def test_messages_published_before_v2_still_decode_to_the_same_features() -> None:
    sent = message(np.arange(60, dtype=np.float32).reshape(20, 3) / 7)
    old = json.dumps(v1_body(sent)).encode()
    decoded = FeaturesMessage.from_bytes(old)
    np.testing.assert_array_equal(decoded.features, sent.features)
    assert (decoded.upload, decoded.audio, decoded.spec) == (sent.upload, sent.audio, sent.spec)
    clip = message(np.random.default_rng(0).normal(size=(20, 501)).astype(np.float32))  # a 5 s clip
    assert len(clip.to_bytes()) < 0.8 * len(json.dumps(v1_body(clip)))  # no base64: ~41 KB, not ~54 KB


def test_a_binary_payload_of_the_wrong_length_is_refused() -> None:
    data = message(np.ones((20, 3), np.float32)).to_bytes()
    for broken in (data[:-4], data + b"\0\0\0\0", data.partition(b"\n")[0]):
        with pytest.raises(MessageError, match="float32 matrix of shape \\[20, 3\\]"):
            FeaturesMessage.from_bytes(broken)


def test_body_and_attributes_follow_the_contract() -> None:
    sent = message(np.zeros((20, 3), np.float32))
    body = features_header(sent.to_bytes())
    assert body["schema"] == FEATURES_SCHEMA
    assert body["upload"] == {
        "bucket": "uploads",
        "name": "alice/ä cough.webm",
        "generation": 1795255474935571,
        "size": 48213,
        "content_type": "audio/webm;codecs=opus",
    }
    assert body["features"]["shape"] == [20, 3] and body["features"]["dtype"] == "float32"
    assert sent.attributes() == {
        "key": result_key("uploads", "alice/ä cough.webm"),
        "generation": "1795255474935571",
        "schema": FEATURES_SCHEMA,
        "trace_id": "ab" * 16,
    }


def _mutated(**changes: object) -> bytes:
    body = v1_body(message(np.ones((2, 2), np.float32)))
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        target = body
        for parent in parents:
            target = target[parent]
        target[leaf] = value
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[]",
        _mutated(schema="coughcloud.features.v0"),
        _mutated(features__dtype="float64"),
        _mutated(features__shape=[3, 3]),
        _mutated(features__data="***"),
        _mutated(upload__extra="x"),
        _mutated(spec=[1]),
    ],
)
def test_malformed_messages_raise_message_error(data: bytes) -> None:
    with pytest.raises(MessageError):
        FeaturesMessage.from_bytes(data)


def test_result_message_is_json_with_routing_attributes() -> None:
    at = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    document = {"generation": 5, "status": "done", "label": "wet", "created_at": at, "timings": {"a_ms": 1.5}}
    data, attributes = result_message("k", document)
    assert json.loads(data) == {**to_json_safe(document), "key": "k"}
    assert json.loads(data)["created_at"] == "2026-11-21T10:00:00+00:00"
    assert attributes == {"key": "k", "generation": "5", "status": "done", "label": "wet", "owner": ""}
    assert result_message("k", {**document, "label": None})[1]["label"] == ""
    assert result_message("k", {**document, "owner": "uid-1"})[1]["owner"] == "uid-1"
