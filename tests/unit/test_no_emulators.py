"""tests/unit/conftest.py's guard: a unit test that asks for an emulator fails before it starts one."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.unit import conftest


@pytest.mark.parametrize("fixture", sorted(conftest.EMULATOR_FIXTURES))
def test_a_unit_test_asking_for_an_emulator_fixture_fails(fixture: str) -> None:
    item = SimpleNamespace(nodeid="tests/unit/test_x.py::test_y", fixturenames=["tmp_path", fixture])
    with pytest.raises(
        pytest.fail.Exception, match=f"test_y needs {fixture}: .* belongs in tests/integration/"
    ):
        conftest.pytest_runtest_setup(item)


def test_a_unit_test_without_one_is_let_through() -> None:
    conftest.pytest_runtest_setup(SimpleNamespace(nodeid="t", fixturenames=["tmp_path", "monkeypatch"]))
