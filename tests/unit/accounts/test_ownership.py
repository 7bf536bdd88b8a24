"""shared/accounts/ownership.py: which names are whose."""

from __future__ import annotations

import pytest

from shared.accounts.ownership import ForeignName, owned_name, owner_of
from shared.errors import InputError


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("users/abc/cough.wav", "abc"),
        ("users/abc/deep/er/x.webm", "abc"),
        ("users/abc/", None),
        ("users//x.wav", None),
        ("users/x.wav", None),
        ("user/abc/x.wav", None),
        ("web/abc/x.wav", None),
        ("x.wav", None),
    ],
)
def test_owner_of(name: str, owner: str | None) -> None:
    assert owner_of(name) == owner


def test_short_names_are_prefixed_and_own_full_names_kept() -> None:
    assert owned_name("u1", "a.wav") == "users/u1/a.wav"
    assert owned_name("u1", "web/2026/a.wav") == "users/u1/web/2026/a.wav"
    assert owned_name("u1", "users/u1/a.wav") == "users/u1/a.wav"


@pytest.mark.parametrize("name", ["users/u2/a.wav", "users/u1x/a.wav", "users/a.wav", "users/"])
def test_anything_else_under_users_is_foreign(name: str) -> None:
    with pytest.raises(ForeignName, match="users/u1/"):
        owned_name("u1", name)


@pytest.mark.parametrize("name", ["", "../a.wav", "/a.wav", "a\x00.wav", "a" * 510, None, 7])
def test_invalid_names_are_refused_before_or_after_prefixing(name: object) -> None:
    with pytest.raises(InputError) as caught:
        owned_name("u1", name)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_name"
