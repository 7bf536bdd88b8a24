"""`coughcloud rescore`: what it refuses before touching anything, and its pacing (no emulator)."""

from __future__ import annotations

import pytest

from coughcloud.cli import main
from shared.registry.rescore import Pacer


@pytest.mark.parametrize(("option", "value"), [("--limit", "0"), ("--limit", "-3"), ("--rate", "0"),
                                               ("--rate", "fast")])  # fmt: skip
def test_unbounded_or_unpaced_runs_are_refused(option: str, value: str) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["rescore", "--model", "2.0.0", option, value])
    assert refused.value.code == 2


def test_the_pacer_keeps_to_its_rate() -> None:
    now, slept = [100.0], []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(9):
        pacer.wait()
    assert now[0] == pytest.approx(102.0)  # 9 calls at 4 a second: 8 intervals of 0.25 s
    assert slept == pytest.approx([0.25] * 8)
