"""Integration tests run on the session's local stack; each test sees its env exported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_stack.emulators import UPLOAD_EVENTS_TOPIC
from tests.integration.support import TopicTap


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
