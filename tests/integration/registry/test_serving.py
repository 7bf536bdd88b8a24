"""preprocess and predict with a pointer document, through functions-framework on the real
emulators: the version chosen per upload answers, its feature spec is the one computed, a
shadow scores beside it without being published or shown, and a version that cannot load is
answered for by the champion."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from shared.accounts.ownership import user_prefix
from shared.cloud import firestore
from shared.config import settings
from shared.pipeline import results
from shared.pipeline.messages import FEATURES_SCHEMA_V1, FeaturesMessage, features_header
from shared.registry import feedback, store
from shared.registry.artifacts import Registry
from shared.registry.pointer import ModelPointer
from tests.accounts_support import bearer, new_visitor
from tests.fixtures.audio_files import sample_file
from tests.pipeline_support import Pipeline, deliver, function_client, pubsub_event, storage_event
from tests.registry_support import NAME, SPEC, add_version

pytestmark = pytest.mark.integration


@pytest.fixture
def versions(
    registry: Registry, pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Registry:
    """1.0.0 (the shipped model), 2.0.0 (a copy), hop25 (a copy whose spec differs in a way its
    input shape does not show) and broken (model.tflite does not match its sha256)."""
    add_version(registry, tmp_path, "2.0.0")
    add_version(registry, tmp_path, "hop25", features={**SPEC, "window_hop_frames": 25})
    add_version(registry, tmp_path, "broken", sha256="0" * 64)
    monkeypatch.setenv("MODEL_POINTER_TTL_S", "0")  # every upload re-reads the pointer
    settings.cache_clear()
    return registry


def set_pointer(**aliases: Any) -> None:
    pointer = ModelPointer(name=NAME, **aliases)
    store.change_pointer(NAME, "test", lambda _: pointer, "1.0.0", "test")


def run(pipeline: Pipeline, preprocess: Any, predict: Any, name: str) -> tuple[dict, dict, dict]:
    """Upload → preprocess → predict; the features message, the result document, the published result."""
    event = pipeline.upload(name, sample_file("wav_pcm16", seconds=1.5))
    assert deliver(preprocess, storage_event(event)).status_code == 200
    [features] = pipeline.messages("features")
    assert deliver(predict, pubsub_event(features.data, dict(features.attributes))).status_code == 200
    [published] = pipeline.messages("results")
    return features_header(features.data), results.get(pipeline.key(name)), json.loads(published.data)


def test_the_canary_answers_its_uploads_with_features_of_its_own_spec(
    versions: Registry, pipeline: Pipeline, preprocess: Any, predict: Any
) -> None:
    set_pointer(champion="1.0.0", canary="hop25", percent=100)
    message, document, published = run(pipeline, preprocess, predict, "canary.wav")
    assert message["model"] == {"name": NAME, "version": "hop25", "alias": "canary", "shadow": None}
    assert message["spec"]["window_hop_frames"] == 25
    assert document["status"] == "done"
    assert (document["model"]["version"], document["model"]["alias"]) == ("hop25", "canary")
    assert published["model"] == document["model"]


def test_a_promotion_is_followed_without_a_restart(
    versions: Registry, pipeline: Pipeline, preprocess: Any, predict: Any
) -> None:
    _, before, _ = run(pipeline, preprocess, predict, "before.wav")
    assert (before["model"]["version"], before["model"]["alias"]) == ("1.0.0", "champion")
    set_pointer(champion="2.0.0", previous="1.0.0")
    _, after, _ = run(pipeline, preprocess, predict, "after.wav")
    assert (after["model"]["version"], after["model"]["alias"]) == ("2.0.0", "champion")
    assert after["model"]["sha256"] == before["model"]["sha256"]  # the same model, another version


def test_the_shadow_is_on_the_document_only(
    versions: Registry, pipeline: Pipeline, preprocess: Any, predict: Any
) -> None:
    set_pointer(champion="1.0.0", shadow="2.0.0")
    message, document, published = run(pipeline, preprocess, predict, "shadowed.wav")
    assert message["model"]["shadow"] == "2.0.0"
    shadow = document["shadow"]
    assert (shadow["model"]["version"], shadow["model"]["alias"]) == ("2.0.0", "shadow")
    assert shadow["label"] == document["label"]  # a copy of the champion agrees with it
    assert shadow["probabilities"] == pytest.approx(document["probabilities"])
    assert document["model"]["version"] == "1.0.0"
    assert "shadow" not in published


def test_a_shadow_with_another_spec_is_skipped_and_the_answer_stands(
    versions: Registry, pipeline: Pipeline, preprocess: Any, predict: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    set_pointer(champion="1.0.0", shadow="hop25")
    _, document, _ = run(pipeline, preprocess, predict, "spec-shadow.wav")
    assert document["status"] == "done" and document["model"]["version"] == "1.0.0"
    assert document["shadow"] is None
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    [skipped] = [line for line in logged if line.get("event") == "shadow_skipped"]
    assert "different feature spec" in skipped["message"]


def test_a_version_that_cannot_load_is_answered_for_by_the_champion(
    versions: Registry, pipeline: Pipeline, preprocess: Any, predict: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    set_pointer(champion="1.0.0", canary="broken", percent=100)
    message, document, published = run(pipeline, preprocess, predict, "fallback.wav")
    assert message["model"]["version"] == "broken"
    assert document["status"] == "done"
    model = document["model"]
    assert (model["version"], model["alias"], model["fallback_from"]) == ("1.0.0", "champion", "broken")
    assert published["status"] == "done"
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "model_fallback" and line["model_version"] == "broken" for line in logged)


def test_a_message_from_before_the_registry_is_answered_by_the_champion(
    versions: Registry, pipeline: Pipeline, preprocess: Any, predict: Any
) -> None:
    set_pointer(champion="2.0.0", previous="1.0.0")
    event = pipeline.upload("old.wav", sample_file("wav_pcm16"))
    assert deliver(preprocess, storage_event(event)).status_code == 200
    [features] = pipeline.messages("features")
    old = FeaturesMessage.from_bytes(features.data)
    # A message from before the registry: schema v1 (one JSON object, base64 matrix), no model.
    body = features_header(features.data)
    del body["model"]
    matrix = base64.b64encode(features.data.partition(b"\n")[2]).decode()
    body = {**body, "schema": FEATURES_SCHEMA_V1, "features": {**body["features"], "data": matrix}}
    assert FeaturesMessage.from_bytes(json.dumps(body).encode()).model is None
    reply = deliver(predict, pubsub_event(json.dumps(body).encode(), dict(features.attributes)))
    assert reply.status_code == 200
    document = results.get(old.key)
    assert (document["model"]["version"], document["model"]["alias"]) == ("2.0.0", "champion")


def test_the_api_never_shows_the_shadow_or_other_versions_scores(
    versions: Registry, pipeline: Pipeline, preprocess: Any, predict: Any, auth_emulator: dict[str, str]
) -> None:
    owner = new_visitor()
    name = f"{user_prefix(owner.uid)}private.wav"
    set_pointer(champion="1.0.0", shadow="2.0.0")
    _, document, _ = run(pipeline, preprocess, predict, name)
    assert document["shadow"]
    firestore.client().collection(settings().RESULTS_COLLECTION).document(pipeline.key(name)).update(
        {"scores": {"x": {"label": "dry"}}}
    )
    api = function_client("results_api")
    one = api.get("/results", query_string={"name": name}, headers=bearer(owner.id_token))
    assert one.status_code == 200 and one.get_json()["label"] == document["label"]
    page = api.get("/results", headers=bearer(owner.id_token))
    [listed] = page.get_json()["results"]
    for shown in (one.get_json(), listed):
        assert "shadow" not in shown and "scores" not in shown


def test_a_new_generation_inherits_no_shadow_scores_or_feedback(
    versions: Registry, pipeline: Pipeline, preprocess: Any, predict: Any
) -> None:
    set_pointer(champion="1.0.0", shadow="2.0.0")
    _, first, _ = run(pipeline, preprocess, predict, "again.wav")
    assert first["shadow"]
    feedback.record(pipeline.key("again.wav"), "wet")
    firestore.client().collection(settings().RESULTS_COLLECTION).document(pipeline.key("again.wav")).update(
        {"scores": {"2.0.0": {"label": "dry"}}}
    )
    set_pointer(champion="1.0.0")
    _, second, published = run(pipeline, preprocess, predict, "again.wav")  # the same name, re-uploaded
    assert second["generation"] > first["generation"] and second["status"] == "done"
    emptied = ("shadow", "feedback", "feedback_at", "scored_at")
    assert {k: second[k] for k in emptied} == dict.fromkeys(emptied) and second["scores"] == {}
    assert not {"shadow", "scores", "scored_at", "feedback_at"} & set(published)
