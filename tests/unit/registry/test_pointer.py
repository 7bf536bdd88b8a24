"""shared/registry/pointer.py: each change to the aliases, and each refusal."""

from __future__ import annotations

import pytest

from shared.registry import pointer
from shared.registry.pointer import ModelPointer, Refusal

P = ModelPointer(name="m", champion="1.0.0")


def test_promote_keeps_the_old_champion_for_a_rollback_and_ends_its_canary() -> None:
    canaried = pointer.set_canary(P, "2.0.0", 10)
    promoted = pointer.promote(canaried, "2.0.0")
    assert (promoted.champion, promoted.previous, promoted.canary, promoted.percent) == (
        "2.0.0",
        "1.0.0",
        None,
        0,
    )
    assert pointer.rollback(promoted) == ModelPointer(name="m", champion="1.0.0", previous="2.0.0")


def test_promote_keeps_an_unrelated_canary_and_drops_a_shadow_that_becomes_champion() -> None:
    p = pointer.set_shadow(pointer.set_canary(P, "3.0.0", 5), "2.0.0")
    promoted = pointer.promote(p, "2.0.0")
    assert (promoted.canary, promoted.percent, promoted.shadow) == ("3.0.0", 5, None)


def test_rollback_stops_the_canary_and_keeps_the_shadow() -> None:
    p = pointer.set_shadow(pointer.set_canary(pointer.promote(P, "2.0.0"), "3.0.0", 50), "4.0.0")
    back = pointer.rollback(p)
    assert (back.champion, back.previous, back.canary, back.percent, back.shadow) == (
        "1.0.0", "2.0.0", None, 0, "4.0.0")  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: pointer.promote(p, "1.0.0"), "already the champion"),
        (lambda p: pointer.set_canary(p, "1.0.0", 10), "a canary must be another version"),
        (lambda p: pointer.set_canary(p, "2.0.0", 101), "from 0 to 100, not 101"),
        (lambda p: pointer.set_canary(p, "2.0.0", -1), "from 0 to 100, not -1"),
        (lambda p: pointer.set_shadow(p, "1.0.0"), "a shadow must be another version"),
        (pointer.rollback, "no previous champion"),
        (pointer.clear_canary, "has no canary"),
        (pointer.clear_shadow, "has no shadow"),
    ],
)
def test_refusals_say_why(change: object, message: str) -> None:
    with pytest.raises(Refusal, match=message):
        change(P)  # type: ignore[operator]


def test_percent_bounds_are_inclusive() -> None:
    assert pointer.set_canary(P, "2.0.0", 0).percent == 0
    assert pointer.set_canary(P, "2.0.0", 100).percent == 100


def test_a_stored_document_round_trips_and_a_broken_one_is_refused() -> None:
    p = pointer.set_shadow(pointer.set_canary(pointer.promote(P, "2.0.0"), "3.0.0", 25), "1.0.0")
    assert ModelPointer.from_dict({**p.to_dict(), "updated_by": "x"}) == p
    with pytest.raises(ValueError, match="names no champion"):
        ModelPointer.from_dict({"name": "m", "champion": None})
    with pytest.raises(ValueError, match="percent 250"):
        ModelPointer.from_dict({"name": "m", "champion": "1", "canary": "2", "percent": 250})
