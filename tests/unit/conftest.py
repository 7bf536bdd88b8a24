"""Unit tests run without any emulator: a test that asks for one fails before it starts.

Tests that need the emulators or the local stack live in tests/integration/.
"""

from __future__ import annotations

import pytest

# The fixtures that start emulators (tests/conftest.py), or need them started.
EMULATOR_FIXTURES = frozenset({"emulators", "auth_emulator", "stack", "env", "bucket"})


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    needed = sorted(EMULATOR_FIXTURES.intersection(getattr(item, "fixturenames", ())))
    if needed:
        pytest.fail(
            f"{item.nodeid} needs {', '.join(needed)}: tests/unit runs without emulators, "
            "so it belongs in tests/integration/.",
            pytrace=False,
        )
