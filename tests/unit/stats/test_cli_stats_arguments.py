"""`coughcloud stats`: what it refuses before reading anything (no emulator)."""

from __future__ import annotations

import pytest

from coughcloud.cli import main


def test_stats_refuses_a_window_that_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["stats", "--minutes", "0"])
    assert exit_info.value.code == 2
    assert "the window must be positive" in capsys.readouterr().err
