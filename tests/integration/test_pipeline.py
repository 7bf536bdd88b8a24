"""Uploads through the whole local stack: storage emulator → bridge → preprocess → predict → Firestore."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from google.cloud import storage

from local_stack.emulators import UPLOAD_EVENTS_TOPIC
from shared.config import REPO_ROOT
from shared.names import result_key
from tests.accounts_support import bearer, new_visitor
from tests.fixtures.audio_files import encode as encode_audio
from tests.fixtures.audio_files import sample_file, silence, text_file
from tests.integration.support import get_result, republish, unique_name, wait_for_result

pytestmark = pytest.mark.integration

LABELS = {"dry", "wet", "not_cough", "inconclusive"}
# How long duplicates get to show up after the first result (they take ~50 ms each).
SETTLE_S = 1.5


def _for_key(key: str):
    return lambda message: message.attributes.get("key") == key


def test_upload_with_the_official_client_is_done_over_http_and_on_cough_results(env, bucket, results_tap):
    name = unique_name("done")
    blob = bucket.blob(name)
    blob.upload_from_string(sample_file("wav_pcm16"), content_type="audio/wav")

    document = wait_for_result(env, name)
    assert document["status"] == "done", document
    assert document["label"] in LABELS
    assert int(document["generation"]) == blob.generation
    assert abs(sum(document["probabilities"].values()) - 1) < 1e-3

    key = result_key(env["UPLOAD_BUCKET"], name)
    [message] = results_tap.wait_for(1, _for_key(key))
    published = json.loads(message.data)
    assert published["status"] == "done"
    assert published["label"] == document["label"]


@pytest.mark.parametrize(
    ("data", "content_type", "code"),
    [
        (encode_audio(silence(1.0), 16_000, "wav_pcm16"), "audio/wav", "silent_audio"),
        (text_file(), "audio/wav", "unsupported_format"),
        (sample_file("wav_pcm16", seconds=0.05), "audio/wav", "too_short"),
    ],
    ids=["silence", "text", "too-short"],
)
def test_a_bad_file_ends_failed_with_its_code(env, bucket, results_tap, data, content_type, code):
    name = unique_name("bad")
    bucket.blob(name).upload_from_string(data, content_type=content_type)

    document = wait_for_result(env, name)
    assert document["status"] == "failed"
    assert document["error"]["code"] == code
    assert document["error"]["message"]
    # Subscribers hear of the failure too, once.
    [message] = results_tap.wait_for(1, _for_key(result_key(env["UPLOAD_BUCKET"], name)))
    assert message.attributes["status"] == "failed"
    assert json.loads(message.data)["error"]["code"] == code
    time.sleep(SETTLE_S)
    assert results_tap.pull() == []


def test_the_same_finalize_event_three_times_gives_one_result(env, bucket, results_tap, upload_events_tap):
    name = unique_name("dup")
    bucket.blob(name).upload_from_string(sample_file("wav_pcm16", seed=3), content_type="audio/wav")
    [event] = upload_events_tap.wait_for(1, lambda m: m.attributes.get("objectId") == name)
    first = wait_for_result(env, name)

    republish(env, UPLOAD_EVENTS_TOPIC, event, times=2)  # delivered three times in all
    time.sleep(SETTLE_S)

    key = result_key(env["UPLOAD_BUCKET"], name)
    assert len([m for m in results_tap.pull() if m.attributes.get("key") == key]) == 1
    again = get_result(env, name)
    assert again["status"] == "done"
    assert again["created_at"] == first["created_at"]
    assert again["updated_at"] == first["updated_at"]


def test_an_event_for_an_older_generation_is_ignored(env, bucket, results_tap, upload_events_tap):
    name = unique_name("stale")
    blob = bucket.blob(name)
    blob.upload_from_string(sample_file("wav_pcm16", seed=4), content_type="audio/wav")
    old_generation = blob.generation
    [old_event] = upload_events_tap.wait_for(1, lambda m: m.attributes.get("objectId") == name)
    wait_for_result(env, name, old_generation)
    blob.upload_from_string(sample_file("wav_pcm16", seed=5), content_type="audio/wav")
    newest = wait_for_result(env, name, blob.generation)
    key = result_key(env["UPLOAD_BUCKET"], name)
    assert len(results_tap.wait_for(2, _for_key(key))) == 2

    republish(env, UPLOAD_EVENTS_TOPIC, old_event)  # a late redelivery of the first generation
    time.sleep(SETTLE_S)

    assert results_tap.pull() == []
    document = get_result(env, name)
    assert int(document["generation"]) == blob.generation != old_generation
    assert document["updated_at"] == newest["updated_at"]


def test_a_browser_put_to_the_signed_url_from_another_origin_is_processed(env):
    origin = env["FRONTEND_URL"]
    data = sample_file("webm_opus", seed=6)
    name = unique_name("signed", ".webm")
    reply = requests.post(
        f"{env['RESULTS_API_URL']}/uploads",
        json={"name": name, "content_type": "audio/webm", "size": len(data)},
        headers={"Origin": origin, **bearer(new_visitor(env).id_token)},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    signed = reply.json()
    name = signed["name"]  # users/{uid}/<name>
    assert signed["url"].startswith(env["STORAGE_EMULATOR_HOST"])

    # What a browser does: a preflight for the PUT, then the PUT with exactly the returned headers.
    preflight = requests.options(
        signed["url"],
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": ",".join(signed["headers"]).lower(),
        },
        timeout=10,
    )
    assert preflight.ok
    assert preflight.headers["Access-Control-Allow-Origin"] in (origin, "*")
    put = requests.put(signed["url"], data=data, headers={**signed["headers"], "Origin": origin}, timeout=10)
    assert put.ok, put.text
    assert put.headers["Access-Control-Allow-Origin"] in (origin, "*")

    document = wait_for_result(env, name)
    assert document["status"] == "done", document


EXAMPLES = REPO_ROOT / "examples"


def test_functions_serving_requests_on_several_threads_give_every_copy_the_same_answer(env, bucket, stack):
    """Cloud Run with concurrency > 1 sends requests at once into one process: the LiteRT
    interpreter (one per model, behind its lock) and the decoders must not mix them up."""
    for name in ("preprocess", "predict"):
        environ = Path(f"/proc/{stack.child(name)['pid']}/environ").read_bytes().split(b"\0")
        assert b"THREADS=8" in environ, name
    examples = {path.name: path.read_bytes() for path in sorted(EXAMPLES.glob("*.wav"))}
    copies = [(f"{unique_name('threads', '')}-{i}-{file}", file) for file in examples for i in range(8)]

    def upload(item: tuple[str, str]) -> None:
        name, file = item
        storage.Client().bucket(env["UPLOAD_BUCKET"]).blob(name).upload_from_string(
            examples[file], content_type="audio/wav"
        )

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(upload, copies))
    answers: dict[str, set[tuple]] = {file: set() for file in examples}
    for name, file in copies:
        document = wait_for_result(env, name)
        assert document["status"] == "done", document
        answers[file].add((document["label"], tuple(sorted(document["probabilities"].items()))))
    assert all(len(seen) == 1 for seen in answers.values()), answers
    assert len({next(iter(seen)) for seen in answers.values()}) > 1  # the files differ: so do answers
