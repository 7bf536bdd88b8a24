"""Issue 11's "done when", on the running local stack and without restarting anything: push a
copy of the default model as another version, promote it and see new results answered
by it; shadow the old one and see `shadow` on results (never published; the HTTP API's
stripping of it is tested in tests/integration/registry/test_serving.py, with a visitor's token);
roll back and see the old version answer again; `models compare` compares them; `models
history` lists every change.

The session's stack caches the pointer for 1 s (tests/conftest.py), the default is 10 s.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from google.cloud import storage

from local_stack.resources import shipped_model_dirs
from shared.config import BUNDLED_MODEL_DIR
from tests.conftest import RunningStack
from tests.fixtures.audio_files import sample_file
from tests.integration.support import TopicTap, coughcloud, unique_name, wait_for_result

pytestmark = pytest.mark.integration

FOLLOW_S = 60.0  # the bound: a change shows within a minute


def models(stack: RunningStack, *args: str) -> Any:
    action, *rest = args
    done = coughcloud("models", action, "--env", str(stack.options.stack_env), *rest)
    assert done.returncode == 0, done.stderr
    return done


def upload(bucket: storage.Bucket, env: dict[str, str]) -> dict[str, Any]:
    name = unique_name("lifecycle")
    blob = bucket.blob(name)
    blob.upload_from_string(sample_file("wav_pcm16", seconds=1.0), content_type="audio/wav")
    return wait_for_result(env, name, blob.generation)


def answered_by(bucket: storage.Bucket, env: dict[str, str], version: str) -> tuple[dict[str, Any], float]:
    """Upload until a result is answered by `version`; that result and how long it took."""
    started = time.monotonic()
    while time.monotonic() - started < FOLLOW_S:
        result = upload(bucket, env)
        if result["model"]["version"] == version:
            return result, time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"no result answered by {version} within {FOLLOW_S} s")


def test_push_promote_shadow_rollback_compare_without_a_restart(
    stack: RunningStack, env: dict[str, str], bucket: storage.Bucket, results_tap: TopicTap
) -> None:
    version = f"1.0.0-it{uuid.uuid4().hex[:6]}"
    pids = {child["name"]: child["pid"] for child in stack.state["children"]}
    # `coughcloud up` seeded the shipped model as champion (tests/integration/registry/test_store.py);
    # the Firestore outage test restarts the in-memory emulator, so the document may be gone:
    # then MODEL_URI's version, the same one, serves (and the functions keep their last good).
    listing = json.loads(models(stack, "list", "--format", "json").stdout)
    first = listing["pointer"]["champion"]
    assert first == BUNDLED_MODEL_DIR.name
    shipped = [folder.name for folder in shipped_model_dirs()]
    assert {"1.0.0", first} <= set(shipped) <= {row["version"] for row in listing["versions"]}
    try:
        models(stack, "push", str(BUNDLED_MODEL_DIR), "--version", version)  # a copy, as another version
        assert upload(bucket, env)["model"]["version"] == first

        models(stack, "promote", version)
        promoted, took = answered_by(bucket, env, version)
        assert promoted["model"]["alias"] == "champion" and took < FOLLOW_S
        assert upload(bucket, env)["model"]["version"] == version  # and it stays so

        models(stack, "shadow", first)
        deadline = time.monotonic() + FOLLOW_S
        while not (stored := upload(bucket, env)).get("shadow") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert stored["shadow"]["model"]["version"] == first
        assert stored["shadow"]["label"] == stored["label"]  # a copy agrees with its original
        assert stored["model"]["version"] == version  # the shadow never answers
        published = results_tap.wait_for(1, lambda m: json.loads(m.data)["key"] == stored["key"])
        assert published and "shadow" not in json.loads(published[0].data)

        models(stack, "rollback")
        back, _ = answered_by(bucket, env, first)
        assert back["model"]["alias"] == "champion"

        compared = json.loads(models(stack, "compare", version, first, "--minutes", "10", "--format",
                                     "json").stdout)  # fmt: skip
        assert compared["paired"] >= 1 and compared["agreement"] == 1.0
        assert compared["versions"][version]["sources"]["served"] >= 2
        assert compared["versions"][first]["sources"]["shadow"] >= 1

        history = json.loads(models(stack, "history", "--format", "json").stdout)
        assert [entry["action"] for entry in history][-3:] == ["promote", "shadow", "rollback"]
        promoted_from = history[-3]["from"]  # None: there was no document, MODEL_URI's `first` served
        assert (promoted_from or {"champion": first})["champion"] == first
        assert history[-3]["to"]["champion"] == version
    finally:
        pointer = json.loads(models(stack, "list", "--format", "json").stdout)["pointer"]
        if pointer["champion"] != first:
            models(stack, "promote", first)
        if pointer["shadow"]:
            models(stack, "shadow", "--off")
    # Nothing was restarted: every process of the stack is the one that started.
    current = json.loads(stack.options.state_file.read_text())
    assert {child["name"]: child["pid"] for child in current["children"]} == pids
