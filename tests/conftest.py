"""Session fixtures shared by every test directory.

`emulators`: the three emulators on free ports, their variables exported in this process.
`stack`: the whole local stack, started as `coughcloud up --detach` starts it.
Both stop every process they started (by PID) at the end of the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

import pytest

from local_stack.emulators import Emulators, start_emulators
from local_stack.processes import LOCAL_DIR
from shared.config import settings

TEST_LOG_DIR = LOCAL_DIR / "test-logs"


def _export(env: Mapping[str, str]) -> dict[str, str | None]:
    """Set `env` in os.environ; return the previous values for `_restore`."""
    previous = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    settings.cache_clear()
    return previous


def _restore(previous: Mapping[str, str | None]) -> None:
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    settings.cache_clear()


@pytest.fixture(scope="session")
def emulators() -> Iterator[Emulators]:
    """Storage, Pub/Sub and Firestore emulators; GOOGLE_CLOUD_PROJECT and the *_EMULATOR_HOST set."""
    config = settings()
    started = start_emulators(config.GOOGLE_CLOUD_PROJECT, config.UPLOAD_BUCKET, log_dir=TEST_LOG_DIR)
    previous = _export(started.env())
    try:
        yield started
    finally:
        _restore(previous)
        started.stop()
