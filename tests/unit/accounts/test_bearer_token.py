"""shared/accounts/identity.py: what a malformed Authorization header is told (no token is verified)."""

from __future__ import annotations

import pytest

from shared.accounts.identity import Unauthenticated, bearer_token


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (None, "Sign in first"),
        ("", "Sign in first"),
        ("   ", "Sign in first"),
        ("Basic dTpw", "Bearer scheme"),
        ("Bearer", "no token"),
        ("Bearer   ", "no token"),
    ],
)
def test_header_problems_say_what_is_wrong(header: str | None, words: str) -> None:
    with pytest.raises(Unauthenticated, match=words):
        bearer_token(header)


def test_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_token("bearer abc") == "abc"
    assert bearer_token("  Bearer  abc ") == "abc"
