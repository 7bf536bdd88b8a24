"""Fixtures of the function tests: an isolated bucket/topics/collection per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.config import settings
from tests.unit.pipeline_support import Pipeline, function_client, make_pipeline


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
