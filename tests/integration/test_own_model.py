"""Another model on the local stack (`coughcloud up --model DIR`): issue 18's model B, an ONNX
graph on a natural-log mel spectrogram giving logits, imported by `coughcloud models import
--check` as `sound-classifier` with labels cough / speech / noise (tests/fixtures/own_model.py).

Its labels reach everything: the result and its `cough-results` message, the OpenAPI
document's schema, feedback (any of its labels, nothing else), `feedback export` (a folder per
label, speech and noise negative), `stats`; and its versions go through push, shadow and
compare as the shipped model's do.
"""

from __future__ import annotations

import csv
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from google.cloud import storage

from shared.config import BUNDLED_MODEL_DIR
from tests.accounts_support import new_visitor
from tests.conftest import RunningStack
from tests.fixtures.audio_files import sample_file
from tests.fixtures.own_model import DISPLAY_NAMES, LABELS, NAME, NEGATIVE_LABELS, build_in_subprocess
from tests.integration.support import TopicTap, coughcloud, unique_name, wait_for_result
from tests.integration.test_accounts import _api, _upload_as, _wait_as

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ANSWERS = {*LABELS, "inconclusive"}
FOLLOW_S = 60.0


@pytest.fixture(scope="module")
def stack(own_model_stack: RunningStack) -> RunningStack:
    """This module's tests (and tests/conftest.py's `env`) use the own-model stack."""
    return own_model_stack


def cli(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    command, *rest = args
    return coughcloud(command, *rest, "--env", str(stack.options.stack_env))


def upload(env: dict[str, str], seconds: float = 1.0) -> dict[str, Any]:
    """A service upload (outside users/), its finished result."""
    name = unique_name("own-model")
    blob = storage.Client().bucket(env["UPLOAD_BUCKET"]).blob(name)
    blob.upload_from_string(sample_file("wav_pcm16", seconds=seconds), content_type="audio/wav")
    return wait_for_result(env, name, blob.generation, timeout=FOLLOW_S)


def test_the_stack_serves_the_folder_as_champion_and_results_carry_its_labels(
    stack: RunningStack, env: dict[str, str]
) -> None:
    assert env["MODEL_URI"] == f"gs://{env['MODEL_BUCKET']}/{NAME}/1.0.0"
    tap = TopicTap(env, env["RESULTS_TOPIC"])
    try:
        result = upload(env)
        published = tap.wait_for(1, lambda m: json.loads(m.data)["key"] == result["key"])
    finally:
        tap.close()
    assert result["status"] == "done", result
    assert result["label"] in ANSWERS
    model = result["model"]
    assert (model["name"], model["version"], model["alias"]) == (NAME, "1.0.0", "champion")
    assert model["labels"] == list(LABELS)
    assert model["negative_labels"] == list(NEGATIVE_LABELS)
    assert model["display_names"] == DISPLAY_NAMES
    assert set(result["probabilities"]) == set(LABELS)
    assert result["confidence"] == pytest.approx(max(result["probabilities"].values()))

    # Subscribers of cough-results get the labels with every result.
    body = json.loads(published[0].data)
    assert (body["label"], body["model"]["labels"]) == (result["label"], list(LABELS))
    assert published[0].attributes["label"] == result["label"]

    # The API's document describes such a result: its label and model validate.
    schema = requests.get(f"{env['RESULTS_API_URL']}/openapi.json", timeout=10).json()
    properties = schema["components"]["schemas"]["Result"]["properties"]
    jsonschema.validate(result["label"], properties["label"])
    jsonschema.validate(model, properties["model"])
    assert "enum" not in properties["label"]

    listing = json.loads(cli(stack, "models", "list", "--format", "json").stdout)
    assert listing["pointer"]["name"] == NAME and listing["pointer"]["champion"] == "1.0.0"
    assert [row["labels"] for row in listing["versions"]] == [list(LABELS)]

    stats = cli(stack, "stats", "--minutes", "30", "--format", "json")
    counts = json.loads(stats.stdout)["labels"][f"{NAME}@1.0.0"]
    assert list(counts)[:3] == list(LABELS)  # the model's order, labels never answered included
    assert set(counts) <= ANSWERS and sum(counts.values()) >= 1


def test_feedback_takes_the_models_labels_and_the_export_files_a_folder_per_label(
    stack: RunningStack, env: dict[str, str], tmp_path: Path
) -> None:
    visitor = new_visitor(env)
    _upload_as(env, visitor, "speaking.wav", sample_file("wav_pcm16", seconds=1.0))
    result = _wait_as(env, visitor, "speaking.wav")
    assert result["status"] == "done" and result["model"]["labels"] == list(LABELS)

    def say(label: str) -> requests.Response:
        body = {"name": "speaking.wav", "label": label}
        return _api(env, "POST", "/results/feedback", visitor, json=body)

    refused = say("dry")
    assert refused.status_code == 400
    assert "label must be one of cough, speech, noise, not 'dry'" in refused.json()["error"]["message"]
    said = say("speech")
    assert said.status_code == 200, said.text

    out = tmp_path / "dataset"
    exported = cli(stack, "feedback", "export", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = {row["uuid"]: row for row in csv.DictReader((out / "metadata_compiled.csv").open())}
    row = rows[result["key"]]
    assert (row["label"], row["negative"], row["cough_detected"], row["model_name"]) == (
        "speech",
        "true",
        "0.0",
        NAME,
    )
    assert row["file"] == f"speech/{result['key']}.wav"
    assert (out / row["file"]).read_bytes()[:4] == b"RIFF"


def test_versions_of_the_model_are_pushed_shadowed_and_compared(
    stack: RunningStack, env: dict[str, str], tmp_path: Path
) -> None:
    second = build_in_subprocess(tmp_path, version="1.0.1", seed=1)

    pushed = cli(stack, "models", "push", str(second))
    assert pushed.returncode == 0, pushed.stderr
    assert f"pushed {NAME} 1.0.1" in pushed.stdout
    foreign = cli(stack, "models", "push", str(BUNDLED_MODEL_DIR))
    assert foreign.returncode == 1
    assert f"holds model 'cough-classifier', but this deployment serves '{NAME}'" in foreign.stderr

    assert cli(stack, "models", "shadow", "1.0.1").returncode == 0
    try:
        deadline = time.monotonic() + FOLLOW_S
        while not (result := upload(env)).get("shadow") and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        assert cli(stack, "models", "shadow", "--off").returncode == 0
    shadow = result["shadow"]
    assert (shadow["model"]["version"], shadow["model"]["labels"]) == ("1.0.1", list(LABELS))
    assert shadow["label"] in ANSWERS and result["model"]["version"] == "1.0.0"

    compared = cli(stack, "models", "compare", "1.0.0", "1.0.1", "--minutes", "30", "--format=json")
    comparison = json.loads(compared.stdout)
    assert comparison["paired"] >= 1
    assert set(comparison["labels"]) <= ANSWERS
    assert comparison["versions"]["1.0.1"]["sources"]["shadow"] >= 1
