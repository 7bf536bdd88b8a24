"""Integration tests run on the real emulators (`pipeline`: the functions called in-process,
through functions-framework's test client) or on the session's local stack (`env`: its
variables exported for the test)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.emulators import UPLOAD_EVENTS_TOPIC
from shared.config import settings
from tests.integration.support import TopicTap
from tests.pipeline_support import Pipeline, function_client, make_pipeline


@pytest.fixture
def pipeline(emulators: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """A bucket, topics (each with a subscription) and a results collection for one test."""
    yield make_pipeline(monkeypatch)
    settings.cache_clear()


@pytest.fixture(scope="module")
def preprocess() -> Any:
    """The preprocess function, served through functions-framework's test client."""
    return function_client("preprocess")


@pytest.fixture(scope="module")
def predict() -> Any:
    """The predict function, served through functions-framework's test client."""
    return function_client("predict")


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
