"""POST /results/feedback through functions-framework, with real visitors on the Auth emulator:
the owner labels a result, anyone else gets the same 404 as for GET, and bad labels are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.accounts.ownership import user_prefix
from shared.accounts.sign_in import Session
from shared.config import BUNDLED_MODEL_DIR
from shared.ml.labels import LabelSet
from shared.pipeline import results
from shared.pipeline.messages import Upload
from tests.accounts_support import bearer, new_visitor
from tests.pipeline_support import Pipeline, function_client

pytestmark = pytest.mark.integration

_METADATA = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())
# A result's `model` as predict writes it (shared/ml/labels.py's info); and another model's.
SHIPPED = {"name": _METADATA["name"], "version": "1.0.0", **LabelSet.from_metadata(_METADATA, "shipped").info}
OWN = {"name": "sound-classifier", "version": "1.0.0", "labels": ["cough", "speech", "noise"],
       "negative_labels": ["speech", "noise"], "display_names": {}}  # fmt: skip


@pytest.fixture(scope="module")
def api() -> Any:
    return function_client("results_api")


@pytest.fixture
def owner(pipeline: Pipeline, auth_emulator: dict[str, str]) -> Session:
    return new_visitor()


def done_result(pipeline: Pipeline, owner: Session, name: str, model: dict[str, Any] = SHIPPED) -> str:
    """A finished result of `owner`'s upload `name`, answered by `model` (by the shipped labels when
    `model` does not carry its own, as results did before); its key."""
    upload = Upload(pipeline.bucket, user_prefix(owner.uid) + name, 7, 1000, "audio/wav")
    results.claim_upload(upload, "trace")
    labels = model.get("labels", SHIPPED["labels"])
    probabilities = dict(zip(labels, (0.9, 0.05, 0.05), strict=True))
    answer = {"label": labels[0], "confidence": 0.9, "model": model, "probabilities": probabilities}
    results.mark_done(upload, answer, {})
    return upload.key


def post(api: Any, visitor: Session, body: Any) -> Any:
    return api.post("/results/feedback", json=body, headers=bearer(visitor.id_token))


def test_the_owner_labels_a_result_and_may_change_it(api: Any, pipeline: Pipeline, owner: Session) -> None:
    key = done_result(pipeline, owner, "a.wav")
    reply = post(api, owner, {"name": "a.wav", "label": "wet"})
    assert reply.status_code == 200, reply.get_json()
    body = reply.get_json()
    assert (body["key"], body["name"], body["feedback"]["label"]) == (key, f"users/{owner.uid}/a.wav", "wet")
    assert results.get(key)["feedback"]["label"] == "wet"
    assert post(api, owner, {"name": f"users/{owner.uid}/a.wav", "label": "not_cough"}).status_code == 200
    stored = results.get(key)
    assert stored["feedback"]["label"] == "not_cough" and stored["label"] == "dry"  # the answer stays
    shown = api.get("/results", query_string={"name": "a.wav"}, headers=bearer(owner.id_token)).get_json()
    assert shown["feedback"]["label"] == "not_cough"


def test_a_stranger_gets_the_same_404_as_for_a_name_that_does_not_exist(
    api: Any, pipeline: Pipeline, owner: Session
) -> None:
    key = done_result(pipeline, owner, "mine.wav")
    stranger = new_visitor()
    for name in (f"users/{owner.uid}/mine.wav", "mine.wav", "nothing.wav"):
        reply = post(api, stranger, {"name": name, "label": "wet"})
        assert reply.status_code == 404, name
        assert reply.get_json()["error"]["code"] == "not_found"
    assert results.get(key)["feedback"] is None
    anonymous = api.post("/results/feedback", json={"name": "mine.wav", "label": "wet"})
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"name": "b.wav", "label": "inconclusive"}, 400, "label must be one of dry, wet, not_cough"),
        ({"name": "b.wav", "label": "DRY"}, 400, "not 'DRY'"),
        ({"name": "b.wav"}, 400, "not None"),
        ({"name": "../b.wav", "label": "dry"}, 400, ".."),
        (["b.wav", "dry"], 400, 'Send a JSON object: {"name", "label"}'),
        ({"name": "b.wav", "label": "dry", "pad": "x" * 20_000}, 413, "over 16384 bytes"),
    ],
)
def test_bad_feedback_is_refused_and_nothing_is_stored(
    api: Any, pipeline: Pipeline, owner: Session, body: Any, status: int, message: str
) -> None:
    key = done_result(pipeline, owner, "b.wav")
    reply = post(api, owner, body)
    assert reply.status_code == status
    assert message in reply.get_json()["error"]["message"]
    assert results.get(key)["feedback"] is None


def test_another_models_result_takes_its_labels_only(api: Any, pipeline: Pipeline, owner: Session) -> None:
    key = done_result(pipeline, owner, "own.wav", OWN)
    refused = post(api, owner, {"name": "own.wav", "label": "not_cough"})
    assert refused.status_code == 400
    message = refused.get_json()["error"]["message"]
    assert "label must be one of cough, speech, noise, not 'not_cough'" in message
    assert post(api, owner, {"name": "own.wav", "label": "speech"}).status_code == 200
    assert results.get(key)["feedback"]["label"] == "speech"


def test_a_result_without_an_answer_takes_no_label_and_an_older_one_its_probabilities(
    api: Any, pipeline: Pipeline, owner: Session
) -> None:
    upload = Upload(pipeline.bucket, user_prefix(owner.uid) + "pending.wav", 7, 1000, "audio/wav")
    results.claim_upload(upload, "trace")
    refused = post(api, owner, {"name": "pending.wav", "label": "dry"})
    assert refused.status_code == 400
    assert "no answer from a model" in refused.get_json()["error"]["message"]
    assert results.get(upload.key)["feedback"] is None
    # Written before results carried their model's labels: the keys of its probabilities.
    done_result(pipeline, owner, "older.wav", {"name": "cough-classifier", "version": "1.0.0"})
    refused = post(api, owner, {"name": "older.wav", "label": "cough"})
    assert "label must be one of dry, not_cough, wet, not 'cough'" in refused.get_json()["error"]["message"]
    assert post(api, owner, {"name": "older.wav", "label": "not_cough"}).status_code == 200


def test_feedback_racing_an_erasure_of_the_same_result_is_404(
    api: Any, pipeline: Pipeline, owner: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 23: the result read, then erased by a DELETE before the label is written; the
    update's NotFound was a 500. The erasure here is real, between the read and the write."""
    from shared.registry import feedback

    key = done_result(pipeline, owner, "raced.wav")
    record = feedback.record

    def erased_first(key_: str, label: str) -> dict[str, Any]:
        results.erase(key_)
        return record(key_, label)

    monkeypatch.setattr(feedback, "record", erased_first)
    reply = post(api, owner, {"name": "raced.wav", "label": "wet"})
    assert (reply.status_code, reply.get_json()["error"]["code"]) == (404, "not_found")
    assert results.get(key) is None  # and the label did not re-create it
