"""POST /warm and the warm-up of POST /uploads, through functions-framework's test client.

Visitors are real accounts on the Firebase Auth emulator; preprocess and predict are stand-in
HTTP servers that record the warm-ups they get.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.processes import free_port
from shared.accounts.sign_in import Session
from shared.cloud import warmup
from shared.config import settings
from shared.http import warm
from shared.pipeline.events import WARM_UP
from tests.accounts_support import bearer, new_visitor
from tests.pipeline_support import Pipeline, function_client, write_signing_key
from tests.warm_support import Function

pytestmark = pytest.mark.integration

ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def app_client() -> Any:
    return function_client("results_api")


@pytest.fixture
def functions() -> Iterator[dict[str, Function]]:
    running = {"preprocess": Function(), "predict": Function()}
    for function in running.values():
        function.release.set()  # answer at once
    yield running
    for function in running.values():
        function.stop()


def _configure(monkeypatch: pytest.MonkeyPatch, urls: dict[str, str], key_dir: Any) -> None:
    key_file = key_dir / "warm-signing-key.json"
    if not key_file.exists():
        write_signing_key(key_file)
    monkeypatch.setenv("SIGNING_KEY_FILE", str(key_file))
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", ORIGIN)
    monkeypatch.setenv("PREPROCESS_URL", urls["preprocess"])
    monkeypatch.setenv("PREDICT_URL", urls["predict"])
    settings.cache_clear()
    warmup.warmer.cache_clear()  # a new results_api instance: nothing warmed yet


@pytest.fixture
def client(
    app_client: Any,
    functions: dict[str, Function],
    pipeline: Pipeline,
    auth_emulator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Any]:
    urls = {name: function.url for name, function in functions.items()}
    _configure(monkeypatch, urls, tmp_path_factory.getbasetemp())
    yield app_client
    warmup.warmer.cache_clear()


@pytest.fixture
def visitor(auth_emulator: dict[str, str]) -> Session:
    return new_visitor()


def _wait_for(functions: dict[str, Function], count: int) -> dict[str, int]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(f.count() < count for f in functions.values()):
        time.sleep(0.02)
    time.sleep(0.2)  # and nothing more arrives
    return {name: f.count() for name, f in functions.items()}


def test_warm_needs_a_signed_in_visitor(client: Any, functions: dict[str, Function]) -> None:
    for headers in ({}, bearer("not-a-token"), {"Authorization": "Basic abc"}):
        reply = client.post("/warm", headers={"Origin": ORIGIN, **headers})
        assert reply.status_code == 401, headers
        assert reply.get_json()["error"]["code"] == "unauthenticated"
        assert reply.headers["WWW-Authenticate"] == "Bearer"
        assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert _wait_for(functions, 0) == {"preprocess": 0, "predict": 0}  # a stranger warms nothing


def test_warm_answers_204_and_each_function_gets_one_cloudevent(
    client: Any, functions: dict[str, Function], visitor: Session, capsys: pytest.CaptureFixture
) -> None:
    warm._finish_own_start_up.cache_clear()  # a new instance
    capsys.readouterr()
    reply = client.post("/warm", headers={"Origin": ORIGIN, **bearer(visitor.id_token)})
    assert reply.status_code == 204
    assert reply.data == b""
    assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert _wait_for(functions, 1) == {"preprocess": 1, "predict": 1}
    for function in functions.values():
        [(_, headers, _)] = function.requests
        assert headers["ce-type"] == WARM_UP
    # results_api's own start-up, done on its first POST /warm: nothing failed, once only
    assert client.post("/warm", headers=bearer(visitor.id_token)).status_code == 204
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [line["stage"] for line in lines if line.get("event") == "warmed_up"] == ["results_api"]
    assert not [line for line in lines if "step" in line]


def test_a_flood_of_warm_calls_costs_one_warm_up_per_function(
    client: Any, functions: dict[str, Function], visitor: Session
) -> None:
    for _ in range(50):
        assert client.post("/warm", headers=bearer(visitor.id_token)).status_code == 204
    other = new_visitor()  # another visitor on the same instance within the interval: nothing more
    assert client.post("/warm", headers=bearer(other.id_token)).status_code == 204
    assert _wait_for(functions, 1) == {"preprocess": 1, "predict": 1}


def test_an_upload_url_request_warms_too(
    client: Any, functions: dict[str, Function], visitor: Session
) -> None:
    body = {"name": "cough.webm", "content_type": "audio/webm", "size": 1000}
    reply = client.post("/uploads", json=body, headers=bearer(visitor.id_token))
    assert reply.status_code == 200
    assert reply.get_json()["name"] == f"users/{visitor.uid}/cough.webm"
    assert _wait_for(functions, 1) == {"preprocess": 1, "predict": 1}
    assert client.post("/warm", headers=bearer(visitor.id_token)).status_code == 204
    assert _wait_for(functions, 1) == {"preprocess": 1, "predict": 1}  # within the interval


def test_a_failing_warm_up_never_reaches_the_visitor(
    app_client: Any,
    pipeline: Pipeline,
    visitor: Session,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture,
) -> None:
    failing = Function(status=503)  # preprocess answers an error; nothing listens for predict
    failing.release.set()
    try:
        urls = {"preprocess": failing.url, "predict": f"http://127.0.0.1:{free_port()}/"}
        _configure(monkeypatch, urls, tmp_path_factory.getbasetemp())
        assert app_client.post("/warm", headers=bearer(visitor.id_token)).status_code == 204
        warmup.warmer.cache_clear()
        body = {"name": "cough.webm", "content_type": "audio/webm", "size": 1000}
        reply = app_client.post("/uploads", json=body, headers=bearer(visitor.id_token))
        assert reply.status_code == 200
        assert reply.get_json()["name"] == f"users/{visitor.uid}/cough.webm"
        time.sleep(0.3)  # the replies' thread logs the 503s
    finally:
        failing.stop()
        warmup.warmer.cache_clear()
    failures = [line for line in capsys.readouterr().out.splitlines() if '"warm_up_failed"' in line]
    assert sum('"function": "predict"' in line for line in failures) == 2  # refused, each call
    assert sum("HTTP 503" in line for line in failures) == 2
