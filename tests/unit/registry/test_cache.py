"""shared/registry/cache.py: the TTL, and the last good pointer when a read fails."""

from __future__ import annotations

import json

import pytest

from shared.registry.cache import MAX_TTL_S, PointerCache
from shared.registry.pointer import ModelPointer

ONE = ModelPointer(name="m", champion="1")
TWO = ModelPointer(name="m", champion="2")


class Source:
    """What the cache reads: a value, or an error to raise; counts the reads."""

    def __init__(self, value: ModelPointer | None) -> None:
        self.value: ModelPointer | Exception | None = value
        self.reads = 0

    def __call__(self, name: str) -> ModelPointer | None:
        self.reads += 1
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_reads_once_per_ttl() -> None:
    source, clock = Source(ONE), Clock()
    cache = PointerCache("m", source, 10.0, clock)
    assert [cache.get() for _ in range(100)] == [ONE] * 100
    assert source.reads == 1
    source.value = TWO
    clock.now += 9.9
    assert cache.get() == ONE
    clock.now += 0.2
    assert cache.get() == TWO
    assert source.reads == 2


def test_the_ttl_is_never_longer_than_thirty_seconds() -> None:
    assert PointerCache("m", Source(ONE), 3600.0).ttl_s == MAX_TTL_S


def test_a_failed_read_keeps_the_last_good_pointer_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    source, clock = Source(ONE), Clock()
    cache = PointerCache("m", source, 5.0, clock)
    assert cache.get() == ONE
    source.value = ConnectionError("firestore unavailable")
    clock.now += 6
    assert cache.get() == ONE
    [changed, failed] = lines(capsys)
    assert changed["event"] == "pointer_changed"
    assert failed["event"] == "pointer_unreadable" and failed["kept"] == "1"
    assert "firestore unavailable" in failed["message"]
    assert cache.get() == ONE and source.reads == 2  # not re-read on every call while it fails
    source.value = TWO
    clock.now += 6
    assert cache.get() == TWO


def test_a_vanished_document_keeps_the_last_good_pointer(capsys: pytest.CaptureFixture[str]) -> None:
    source, clock = Source(ONE), Clock()
    cache = PointerCache("m", source, 1.0, clock)
    cache.get()
    source.value = None
    clock.now += 2
    assert cache.get() == ONE
    assert lines(capsys)[-1]["event"] == "pointer_missing"


def test_before_any_good_read_there_is_no_pointer_and_model_uri_serves(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert PointerCache("m", Source(None), 1.0).get() is None
    assert PointerCache("m", Source(ValueError("broken document")), 1.0).get() is None
    assert lines(capsys)[-1]["event"] == "pointer_unreadable"
