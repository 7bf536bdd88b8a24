"""shared/registry/routing.py: sticky per upload, the canary's share, the shadow beside."""

from __future__ import annotations

import hashlib

from shared.registry.pointer import ModelPointer
from shared.registry.routing import Choice, bucket_of, route

KEYS = [hashlib.sha256(f"uploads/clip-{i}.wav".encode()).hexdigest() for i in range(20_000)]


def test_an_upload_always_lands_in_the_same_bucket() -> None:
    assert [bucket_of(k) for k in KEYS[:500]] == [bucket_of(k) for k in KEYS[:500]]
    assert all(0 <= bucket_of(k) < 100 for k in KEYS)


def test_the_canary_takes_its_percent_of_uploads() -> None:
    for percent in (1, 10, 50):
        p = ModelPointer(name="m", champion="1", canary="2", percent=percent)
        share = sum(route(p, k).version == "2" for k in KEYS) / len(KEYS)
        assert abs(share - percent / 100) < 0.01, (percent, share)


def test_zero_and_hundred_percent() -> None:
    none = ModelPointer(name="m", champion="1", canary="2", percent=0)
    every = ModelPointer(name="m", champion="1", canary="2", percent=100)
    assert {route(none, k).version for k in KEYS[:2000]} == {"1"}
    assert {route(every, k).version for k in KEYS[:2000]} == {"2"}


def test_raising_the_percent_only_moves_uploads_onto_the_canary() -> None:
    low = ModelPointer(name="m", champion="1", canary="2", percent=10)
    high = ModelPointer(name="m", champion="1", canary="2", percent=30)
    on_low = {k for k in KEYS if route(low, k).alias == "canary"}
    on_high = {k for k in KEYS if route(high, k).alias == "canary"}
    assert on_low < on_high


def test_the_choice_names_alias_and_shadow_but_never_the_serving_version_as_its_own_shadow() -> None:
    p = ModelPointer(name="m", champion="1", canary="2", percent=50, shadow="2")
    choices = {route(p, k) for k in KEYS[:1000]}
    assert choices == {Choice("m", "1", "champion", "2"), Choice("m", "2", "canary", None)}


def test_a_choice_survives_the_features_message_and_a_bad_one_is_ignored() -> None:
    choice = Choice("m", "2", "canary", "3")
    assert Choice.from_dict(choice.to_dict()) == choice
    assert Choice.from_dict(None) is None
    assert Choice.from_dict({"name": "m", "version": 7, "alias": "champion"}) is None
    assert Choice.from_dict("1.0.0") is None
