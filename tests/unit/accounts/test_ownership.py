"""shared/accounts/ownership.py: which names are whose, one definition for the API, the
pipeline and erasure (regression: `users/{uid}/` alone was accepted by POST /uploads while
its result had no owner, so DELETE /me left it behind)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from shared.accounts.ownership import (
    ForeignName,
    check_users_name,
    owned_name,
    owner_of,
    user_prefix,
    valid_uid,
)
from shared.errors import InputError


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("users/abc/cough.wav", "abc"),
        ("users/abc/deep/er/x.webm", "abc"),
        ("users/abc/", None),
        ("users/abc/x/", None),
        ("users/abc/./x.wav", None),
        ("users/abc/x/../y.wav", None),
        ("users/abc//x.wav", None),
        ("users/abc/.", None),
        ("users/./x.wav", None),
        ("users/../x.wav", None),
        ("users/a\x00b/x.wav", None),
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


@pytest.mark.parametrize(
    "name", ["", ".", "./a.wav", "a/./b.wav", "a//b.wav", "a/", "users/u1/", "users/u1/x/"]
)
def test_names_that_leave_no_file_under_the_prefix_are_refused(name: str) -> None:
    with pytest.raises(InputError) as caught:
        owned_name("u1", name)
    assert caught.value.code == "invalid_name"


@pytest.mark.parametrize("uid", ["", ".", "..", "A/sub", "a\nb", "a\x7fb", None, 7])
def test_uids_that_cannot_be_one_path_segment(uid: object) -> None:
    assert not valid_uid(uid)
    with pytest.raises(ValueError):
        user_prefix(uid)  # type: ignore[arg-type]


def test_the_pipeline_refuses_users_names_nobody_owns() -> None:
    check_users_name("users/u1/a.wav")
    check_users_name("web/a//b.wav")  # not under users/: a service upload, no owner by design
    for name in ("users/u1/", "users/u1//a.wav", "users/u1/./a.wav", "users/a.wav"):
        with pytest.raises(InputError):
            check_users_name(name)


UIDS = st.text(min_size=1, max_size=40).filter(valid_uid)
NAMES = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(["a", ".", "..", "", "/", "x.wav", "users", "é", "\x00"]), max_size=8).map(
        "".join
    ),
)


@hypothesis_settings(max_examples=300, deadline=None)
@given(UIDS, UIDS, NAMES)
def test_an_accepted_name_is_owned_by_the_caller_and_by_nobody_else(uid: str, other: str, name: str) -> None:
    """Whatever POST /uploads accepts, the pipeline records with its caller as owner, and
    erasure finds under the caller's prefix (and only there)."""
    try:
        full = owned_name(uid, name)
    except (InputError, ForeignName):
        return
    assert owner_of(full) == uid
    assert full.startswith(user_prefix(uid))
    check_users_name(full)
    if other != uid:  # no uid's prefix holds another's (a uid has no '/')
        assert not full.startswith(user_prefix(other))
        assert owner_of(full) != other
