"""shared/names.py: the object-name rules and the result key (docs/design/contracts.md, "Object names")."""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import InputError
from shared.names import MAX_NAME_BYTES, result_key, validate_object_name


@pytest.mark.parametrize(
    "name",
    [
        "14594358af.webm",
        "alice/2026-11-21T10-00-00.wav",
        "a",
        "x" * MAX_NAME_BYTES,
        "€" * (MAX_NAME_BYTES // 3),  # 510 bytes of UTF-8
        "ünïcødé/咳嗽.m4a",
        "dir/file with spaces.mp3",
        "a..b/...wav",  # dots are fine; only a whole `..` segment is not
        "trailing/",
        "double//slash.wav",
    ],
)
def test_valid_names_are_returned_unchanged(name: str) -> None:
    assert validate_object_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        (None, "empty"),
        (42, "empty"),
        (b"bytes.wav", "empty"),
        ("x" * (MAX_NAME_BYTES + 1), "513 bytes"),
        ("€" * (MAX_NAME_BYTES // 3 + 1), "513 bytes"),  # 171 characters, 513 bytes
        ("line\nbreak.wav", "control"),
        ("nul\x00.wav", "control"),
        ("del\x7f.wav", "control"),
        ("tab\t.wav", "control"),
        ("/leading.wav", "start with '/'"),
        ("..", "'..'"),
        ("../up.wav", "'..'"),
        ("a/../b.wav", "'..'"),
        ("a/..", "'..'"),
        ("lone\ud800surrogate.wav", "UTF-8"),
    ],
)
def test_invalid_names_are_refused_with_a_reason(name: object, reason: str) -> None:
    with pytest.raises(InputError) as caught:
        validate_object_name(name)
    assert caught.value.code == "invalid_name"
    assert reason in caught.value.message


def test_result_key_is_sha256_of_bucket_slash_name() -> None:
    assert (
        result_key("coughcloud-uploads", "14594358af.webm")
        == "aaba8d20a9b73b3c6432edfb01f15b22d8f41ed18895bc0c2ac0beb8dfd7098c"
    )


def test_result_key_depends_on_the_bucket() -> None:
    assert result_key("a", "x.wav") != result_key("b", "x.wav")
    assert result_key("a/b", "c") == result_key("a", "b/c")  # the key is of the joined path, as specified


_SEGMENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/"),
    min_size=1,
    max_size=40,
).filter(lambda segment: segment != "..")


@given(
    st.lists(_SEGMENT, min_size=1, max_size=5)
    .map("/".join)
    .filter(lambda name: len(name.encode()) <= MAX_NAME_BYTES)
)
def test_any_valid_name_is_accepted_and_keyed_as_a_firestore_document_id(name: str) -> None:
    assert validate_object_name(name) == name
    key = result_key("bucket", name)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert key == hashlib.sha256(f"bucket/{name}".encode()).hexdigest()
