"""What preprocess and predict decide about one delivery, on fakes (no emulator).

The result store, Pub/Sub and each stage's work are replaced by fakes: the claim and the
final writes record what was asked, the work raises what the test says. The emulator-backed
tests (tests/integration/test_fn_*.py) check the same paths end to end.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from google.api_core import exceptions as api_exceptions

from shared.config import settings
from shared.errors import InputError, ModelError
from shared.pipeline import outcomes, prediction, preprocessing
from shared.pipeline.messages import AudioFacts, FeaturesMessage, Upload
from shared.pipeline.results import Claim, Transition
from tests.unit.pipeline.fakes import MAX_ATTEMPTS, Fakes
from training.dataset import FEATURES

UPLOAD = Upload("uploads", "users/u1/a.wav", 7, 1000, "audio/wav")


def preprocess(name: str = UPLOAD.name) -> None:
    preprocessing.preprocess_upload(UPLOAD.bucket, name, UPLOAD.generation, UPLOAD.size, "audio/wav", "t")


# --- preprocess --------------------------------------------------------------------------------


def test_a_bad_name_is_failed_with_its_code_before_anything_is_claimed(fakes: Fakes) -> None:
    preprocess("users/u1/../b.wav")
    [(kind, (stage, _, _, code, _, _))] = fakes.calls
    assert (kind, stage, code) == ("failed", "preprocess", "invalid_name")


@pytest.mark.parametrize("outcome", ["duplicate", "stale"])
def test_a_delivery_another_one_has_is_skipped_without_work(fakes: Fakes, outcome: str) -> None:
    fakes.claim = Claim(outcome, recorded_generation=7, status="done")
    preprocess()
    assert fakes.kinds() == ["claim"]


def test_a_delivery_past_the_budget_is_dead_lettered_as_an_upload_event_without_work(fakes: Fakes) -> None:
    fakes.claim = Claim("work", attempt=MAX_ATTEMPTS + 1)
    preprocess()
    assert fakes.kinds() == ["claim", "publish", "failed"]
    topic, body, attributes = fakes.calls[1][1]
    assert topic == settings().UPLOADS_DEAD_LETTER_TOPIC
    assert json.loads(body) == preprocessing.object_event(UPLOAD)
    assert attributes["objectId"] == UPLOAD.name and attributes["key"] == UPLOAD.key
    assert attributes["CloudPubSubDeadLetterSourceDeliveryCount"] == str(MAX_ATTEMPTS)
    assert fakes.calls[2][1][3:5] == (
        "internal",
        f"Processing gave up after {MAX_ATTEMPTS} delivery attempts because a service was unavailable.",
    )


def test_a_transient_fault_is_raised_for_a_redelivery_until_the_last_attempt(fakes: Fakes) -> None:
    fakes.work_error = api_exceptions.ServiceUnavailable("storage down")
    fakes.claim = Claim("work", attempt=MAX_ATTEMPTS - 1)
    with pytest.raises(api_exceptions.ServiceUnavailable):
        preprocess()
    assert fakes.kinds() == ["claim", "work"]
    fakes.calls.clear()
    fakes.claim = Claim("work", attempt=MAX_ATTEMPTS)
    preprocess()  # the last attempt: acknowledged, dead-lettered, failed
    assert fakes.kinds() == ["claim", "work", "publish", "failed"]
    assert fakes.calls[2][1][2]["CloudPubSubDeadLetterSourceDeliveryCount"] == str(MAX_ATTEMPTS)


def test_bad_input_found_by_the_work_is_failed_with_its_code(fakes: Fakes) -> None:
    fakes.work_error = InputError("too_short", "The recording is too short.")
    preprocess()
    assert fakes.kinds()[-1] == "failed"
    assert fakes.calls[-1][1][:5] == ("preprocess", UPLOAD.key, 7, "too_short", "The recording is too short.")


def test_a_bug_in_the_work_fails_the_upload_at_once(fakes: Fakes) -> None:
    fakes.work_error = ZeroDivisionError("oops")
    preprocess()
    assert fakes.kinds() == ["claim", "work", "failed"]
    assert fakes.calls[-1][1][3:5] == (
        "internal",
        "The recording could not be processed because of an internal error.",
    )


# --- predict -----------------------------------------------------------------------------------


def features_message() -> tuple[bytes, dict[str, str]]:
    audio = AudioFacts(16000, 1.0, 1, 16000, "wav")
    features = np.zeros((20, 3), np.float32)
    message = FeaturesMessage(
        UPLOAD, audio, FEATURES.to_dict(), features, "t" * 32, "2026-01-01T00:00:00+00:00"
    )
    return message.to_bytes(), message.attributes()


def test_an_unreadable_message_fails_the_upload_its_attributes_name(fakes: Fakes) -> None:
    prediction.predict_features(b"{not json", {"key": UPLOAD.key, "generation": "7"}, 1)
    assert fakes.calls == [
        ("failed", ("predict", UPLOAD.key, 7, "internal", "The features message was unreadable.", {}))
    ]


def test_a_model_that_cannot_serve_fails_the_upload_with_model_error(fakes: Fakes) -> None:
    fakes.work_error = ModelError("The model wants other features.")
    prediction.predict_features(*features_message(), 1)
    assert fakes.kinds()[-1] == "failed"
    assert fakes.calls[-1][1][:5] == (
        "predict",
        UPLOAD.key,
        7,
        "model_error",
        "The model wants other features.",
    )


@pytest.mark.parametrize("delivery_attempt", [None, 1, MAX_ATTEMPTS - 1])
def test_predict_raises_a_transient_fault_for_a_redelivery(
    fakes: Fakes, delivery_attempt: int | None
) -> None:
    fakes.work_error = TimeoutError("firestore slow")
    with pytest.raises(TimeoutError):
        prediction.predict_features(*features_message(), delivery_attempt)
    assert fakes.kinds() == ["work"]


def test_predict_dead_letters_the_message_itself_on_the_last_attempt(fakes: Fakes) -> None:
    fakes.work_error = TimeoutError("firestore slow")
    data, attributes = features_message()
    prediction.predict_features(data, attributes, MAX_ATTEMPTS)
    assert fakes.kinds() == ["work", "publish", "failed"]
    count = {"CloudPubSubDeadLetterSourceDeliveryCount": str(MAX_ATTEMPTS)}
    assert fakes.calls[1][1] == (settings().FEATURES_DEAD_LETTER_TOPIC, data, {**attributes, **count})
    assert fakes.calls[2][1][4].startswith(f"Classification gave up after {MAX_ATTEMPTS} delivery attempts")


def test_an_answer_for_an_erased_upload_is_dropped_and_logged(
    fakes: Fakes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = {"name": "m", "version": "1"}
    answer = {"label": "dry", "confidence": 0.9, "probabilities": {"dry": 0.9}, "model": model}
    monkeypatch.setattr(prediction, "_classify", lambda message: (answer, {"inference_ms": 1.0}))
    monkeypatch.setattr(outcomes, "finish_done", lambda *args: Transition("erased"))
    prediction.predict_features(*features_message(), 1)
    assert fakes.calls == []
    [line] = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["message"] == "Dropped the work on an upload its owner erased meanwhile"
