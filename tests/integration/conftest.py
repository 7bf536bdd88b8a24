"""Integration tests run on the session's local stack; each test sees its env exported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google.cloud import storage

from local_stack.emulators import UPLOAD_EVENTS_TOPIC
from shared.config import settings
from tests.conftest import RunningStack
from tests.integration.support import TopicTap


@pytest.fixture
def env(stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The stack's stack.env, exported for this test (official clients read it at creation)."""
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    settings.cache_clear()
    yield stack.env
    settings.cache_clear()


@pytest.fixture
def bucket(env: dict[str, str]) -> storage.Bucket:
    return storage.Client().bucket(env["UPLOAD_BUCKET"])


@pytest.fixture
def results_tap(env: dict[str, str]) -> Iterator[TopicTap]:
    """Everything published on cough-results during the test."""
    tap = TopicTap(env, env["RESULTS_TOPIC"])
    yield tap
    tap.close()


@pytest.fixture
def upload_events_tap(env: dict[str, str]) -> Iterator[TopicTap]:
    """The storage emulator's finalize notifications during the test (as Eventarc receives them)."""
    tap = TopicTap(env, UPLOAD_EVENTS_TOPIC)
    yield tap
    tap.close()
