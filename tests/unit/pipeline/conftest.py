"""The pipeline's decisions on fakes: `fakes` stands in for Pub/Sub, the store and the work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.accounts import tombstones
from shared.config import settings
from shared.pipeline import outcomes, prediction, preprocessing, results
from tests.unit.pipeline.fakes import MAX_ATTEMPTS, Fakes


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fakes]:
    monkeypatch.setenv("MAX_DELIVERY_ATTEMPTS", str(MAX_ATTEMPTS))
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    settings.cache_clear()
    fake = Fakes()
    monkeypatch.setattr(preprocessing.pubsub, "publish", fake.publish)  # the one module every stage uses
    monkeypatch.setattr(outcomes, "finish_failed", fake.finish_failed)
    monkeypatch.setattr(results, "claim_upload", fake.claim_upload)
    monkeypatch.setattr(tombstones, "erased", fake.erased)
    monkeypatch.setattr(preprocessing, "_extract_and_publish", fake.work)
    monkeypatch.setattr(prediction, "_classify", fake.work)
    yield fake
    settings.cache_clear()
