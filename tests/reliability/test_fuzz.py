"""Fuzzing the three functions every upload goes through: only the typed errors escape.

- `decode_audio` on arbitrary bytes, on bytes behind each container's magic, and on
  valid recordings with bytes flipped, cut, inserted or repeated;
- `feature_matrix` (the shipped models' MFCCs) on arbitrary finite arrays (shape, dtype, finite output);
- `validate_object_name` on arbitrary text, checked against the rules themselves;
- `FeaturesMessage.from_bytes` on poison messages: only MessageError escapes, and what it
  accepts has the contract's types.

Budgets are modest (100–150 examples each) so this file runs in seconds.
"""

from __future__ import annotations

import base64
import json
import unicodedata
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from shared.errors import InputError
from shared.ml.audio import decode_audio
from shared.ml.features import feature_matrix, n_frames
from shared.names import MAX_NAME_BYTES, validate_object_name
from shared.pipeline.messages import (
    FEATURES_SCHEMA_V1,
    AudioFacts,
    FeaturesMessage,
    MessageError,
    Upload,
    features_header,
)
from tests.fixtures.audio_files import FORMATS, sample_file
from training.dataset import FEATURES

RATE = 16_000
FUZZ = hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAGIC = [
    b"RIFF\x24\x00\x00\x00WAVEfmt ",
    b"RF64\xff\xff\xff\xffWAVE",
    b"FORM\x00\x00\x00\x00AIFF",
    b"fLaC",
    b"OggS\x00\x02",
    b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm",
    b"\x00\x00\x00\x18ftypisom",
    b"ID3\x04\x00\x00\x00\x00\x00\x00",
    b"\xff\xfb\x90\x00",
    b"\xff\xf1\x50\x80",
]


@pytest.fixture(scope="module")
def valid_files() -> dict[str, bytes]:
    """Half a second of cough in every supported format, the seeds for mutation."""
    return {fmt: sample_file(fmt, 0.5, RATE) for fmt in FORMATS}


def assert_decoded_or_refused(data: bytes) -> None:
    """Decoding either fails with an InputError or returns sane audio; nothing else."""
    try:
        audio = decode_audio(data, RATE, timeout_s=5.0)
    except InputError:
        return
    assert audio.sample_rate == RATE
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1 and audio.samples.size > 0
    assert np.isfinite(audio.samples).all()
    assert float(np.abs(audio.samples).max()) <= 1.0


@FUZZ
@given(st.binary(max_size=4096))
def test_decode_arbitrary_bytes(data: bytes) -> None:
    assert_decoded_or_refused(data)


@FUZZ
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_decode_bytes_behind_a_container_magic(magic: bytes, tail: bytes) -> None:
    assert_decoded_or_refused(magic + tail)


def mutate(data: bytes, draw: Callable[[st.SearchStrategy[Any]], Any]) -> bytes:
    """One random damage to a valid file: flip bytes, cut, insert junk or repeat a span."""
    kind = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
    at = draw(st.integers(0, len(data) - 1))
    if kind == "flip":
        buf = bytearray(data)
        for offset in draw(st.lists(st.integers(0, 255), min_size=1, max_size=16)):
            buf[(at + offset * 7) % len(buf)] ^= draw(st.integers(1, 255))
        return bytes(buf)
    if kind == "cut":
        return data[:at]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
    span = draw(st.integers(1, 512))
    return data[: at + span] + data[at : at + span] * draw(st.integers(1, 8)) + data[at + span :]


@FUZZ
@given(st.sampled_from(sorted(FORMATS)), st.data())
def test_decode_mutated_valid_files(valid_files: dict[str, bytes], fmt: str, data: st.DataObject) -> None:
    assert_decoded_or_refused(mutate(valid_files[fmt], data.draw))


SPEC = FEATURES


@hypothesis_settings(max_examples=100, deadline=None)
@given(
    arrays(
        np.float32, st.integers(1, 6000), elements=st.floats(width=32, allow_nan=False, allow_infinity=False)
    )
)
def test_features_of_finite_arrays_are_finite_float32_of_the_stated_shape(samples: np.ndarray) -> None:
    features = feature_matrix(samples, SPEC)
    assert features.shape == (SPEC.n_features, n_frames(samples.size, SPEC))
    assert features.dtype == np.float32
    assert np.isfinite(features).all()


def follows_the_rules(name: str) -> bool:
    """The name rules of docs/design/contracts.md, written out independently of shared/names.py."""
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return False
    return (
        1 <= size <= MAX_NAME_BYTES
        and not any(unicodedata.category(c) == "Cc" for c in name)
        and not name.startswith("/")
        and ".." not in name.split("/")
    )


PIECES = ["..", ".", "/", "a", "é", "咳", "🎤", "\x00", "\n", "\x7f", "\u202e", "\ud800", " ", "x" * 200]
NAMES = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=600),
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(NAMES)
def test_name_validation_accepts_exactly_the_names_that_follow_the_rules(name: str) -> None:
    try:
        accepted = validate_object_name(name) == name
    except InputError as error:
        assert error.code == "invalid_name"
        accepted = False
    assert accepted == follows_the_rules(name), repr(name)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def valid_features_body() -> dict[str, Any]:
    upload = Upload("b", "n.wav", 1, 10, "audio/wav")
    audio = AudioFacts(16_000, 1.0, 1, 16_000, "wav")
    features = np.zeros((20, 101), dtype=np.float32)
    message = FeaturesMessage(upload, audio, SPEC.to_dict(), features, "t" * 32, "2026-01-01T00:00:00+00:00")
    # The all-JSON form (schema v1, still decoded): every field of it can be replaced.
    body = features_header(message.to_bytes())
    data = base64.b64encode(features.tobytes()).decode()
    return {**body, "schema": FEATURES_SCHEMA_V1, "features": {**body["features"], "data": data}}


def assert_parsed_or_refused(data: bytes) -> None:
    """Only MessageError escapes; what is accepted has the contract's types (a poison must not
    get past parsing and crash the handler on every redelivery)."""
    try:
        message = FeaturesMessage.from_bytes(data)
    except MessageError:
        return
    upload = message.upload
    assert isinstance(upload.bucket, str) and isinstance(upload.name, str)
    assert isinstance(upload.content_type, str)
    assert type(upload.generation) is int and type(upload.size) is int
    assert isinstance(message.features, np.ndarray) and message.features.dtype == np.float32


@FUZZ
@given(st.sampled_from(["upload", "audio", "spec", "features", "trace_id", "sent_at", "schema"]), JSON)
def test_features_message_with_a_field_replaced(field: str, value: Any) -> None:
    body = valid_features_body()
    body[field] = value
    assert_parsed_or_refused(json.dumps(body).encode())


@FUZZ
@given(st.sampled_from(["bucket", "name", "generation", "size", "content_type"]), JSON)
def test_features_message_with_an_upload_field_replaced(field: str, value: Any) -> None:
    body = valid_features_body()
    body["upload"][field] = value
    assert_parsed_or_refused(json.dumps(body).encode())


@FUZZ
@given(st.binary(max_size=512) | JSON.map(lambda v: json.dumps(v).encode()))
def test_features_message_from_arbitrary_bytes(data: bytes) -> None:
    assert_parsed_or_refused(data)


def test_deeply_nested_json_is_a_message_error_not_a_crash() -> None:
    assert_parsed_or_refused(b"[" * 100_000)
    assert_parsed_or_refused(b'{"schema": "coughcloud.features.v1", "upload": ' + b"[" * 100_000)
