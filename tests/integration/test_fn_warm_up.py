"""preprocess and predict on the warm-up event results_api sends, on the real emulators.

The event is built by results_api's own sender (shared.cloud.warmup.cloudevent_headers), so
what is tested here is what the functions receive on Cloud and on the local stack.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.cloud import firestore, warmup
from shared.config import settings
from tests.fixtures.audio_files import sample_file
from tests.pipeline_support import Pipeline, deliver, storage_event

pytestmark = pytest.mark.integration


def _warm_up(client: Any, stage: str, capsys: pytest.CaptureFixture) -> None:
    """Send the warm-up; it is acknowledged and logged as this stage's, every step done."""
    capsys.readouterr()
    assert client.post("/", headers=warmup.cloudevent_headers(), data=b"{}").status_code == 200
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [line["stage"] for line in lines if line.get("event") == "warmed_up"] == [stage]
    assert not [line for line in lines if "step" in line]  # no start-up step failed
    assert not [line for line in lines if "Ignored" in line.get("message", "")]


def test_preprocess_finishes_its_start_up_on_a_warm_up_and_writes_nothing(
    preprocess: Any, pipeline: Pipeline, capsys: pytest.CaptureFixture
) -> None:
    _warm_up(preprocess, "preprocess", capsys)
    assert pipeline.messages("features") == []
    assert list(firestore.client().collection(settings().RESULTS_COLLECTION).limit(1).stream()) == []
    # and an upload after it is processed as ever
    event = pipeline.upload("after-warm-up.wav", sample_file("wav_pcm16", seconds=1.0))
    assert deliver(preprocess, storage_event(event)).status_code == 200
    assert len(pipeline.messages("features")) == 1


def test_predict_loads_the_champion_on_a_warm_up_and_publishes_nothing(
    predict: Any, pipeline: Pipeline, capsys: pytest.CaptureFixture
) -> None:
    _warm_up(predict, "predict", capsys)
    assert pipeline.messages("results") == []
