"""The warm-up sender (shared/cloud/warmup.py): its bound, its requests, and that no failure escapes.

No emulator: the targets are HTTP servers of this test on free ports.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import pytest

from local_stack.processes import free_port
from shared.cloud import warmup
from shared.cloud.warmup import Target, Warmer
from shared.pipeline.events import WARM_UP
from tests.warm_support import Function

TARGETS = (Target("preprocess", "http://127.0.0.1:1/"), Target("predict", "http://127.0.0.1:2/"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def recording_warmer(interval_s: float = 60.0) -> tuple[Warmer, list[str], Clock]:
    sent: list[str] = []
    clock = Clock()
    return Warmer(TARGETS, interval_s, lambda t: sent.append(t.function), clock), sent, clock


def test_a_flood_sends_one_warm_up_per_function_per_interval() -> None:
    warmer, sent, clock = recording_warmer(60.0)
    assert warmer.warm() == 2
    for _ in range(1000):
        warmer.warm()
    clock.now += 59.9
    assert warmer.warm() == 0
    assert sent == ["preprocess", "predict"]
    clock.now += 0.1
    assert warmer.warm() == 2
    assert sent == ["preprocess", "predict", "preprocess", "predict"]


def test_concurrent_callers_take_each_slot_once() -> None:
    warmer, sent, _ = recording_warmer(60.0)
    with ThreadPoolExecutor(16) as pool:
        counts = list(pool.map(lambda _: warmer.warm(), range(400)))
    assert sum(counts) == 2
    assert sorted(sent) == ["predict", "preprocess"]


def test_a_failing_send_is_logged_not_raised_and_not_retried_sooner(capsys: pytest.CaptureFixture) -> None:
    def refuse(target: Target) -> None:
        raise ConnectionRefusedError(f"{target.function} is down")

    clock = Clock()
    warmer = Warmer(TARGETS, 60.0, refuse, clock)
    assert warmer.warm() == 0
    assert warmer.warm() == 0  # within the interval: not tried again
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["event"], line["function"]) for line in lines] == [
        ("warm_up_failed", "preprocess"),
        ("warm_up_failed", "predict"),
    ]
    assert "ConnectionRefusedError" in lines[0]["message"]


def test_no_configured_url_means_no_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.config import settings

    monkeypatch.setenv("PREPROCESS_URL", "")
    monkeypatch.setenv("PREDICT_URL", "http://127.0.0.1:9/")
    monkeypatch.setenv("WARM_UP_INTERVAL_S", "5")
    settings.cache_clear()
    warmup.warmer.cache_clear()
    try:
        made = warmup.warmer()
        assert made.targets == (Target("predict", "http://127.0.0.1:9/"),)
        assert made.interval_s == 5.0
    finally:
        settings.cache_clear()
        warmup.warmer.cache_clear()


@pytest.fixture
def function() -> Iterator[Function]:
    running = Function()
    yield running
    running.stop()


def test_a_warm_up_is_a_cloudevent_sent_before_the_function_answers(function: Function) -> None:
    warmup.send(Target("preprocess", function.url))
    # send() has returned while the function still holds its reply: nothing waits on the warm-up.
    assert function.received.wait(5)
    assert not function.release.is_set()
    [(path, headers, body)] = function.requests
    assert path == "/"
    assert headers["ce-type"] == WARM_UP
    assert headers["ce-specversion"] == "1.0"
    assert headers["ce-id"] and headers["ce-source"]
    assert json.loads(body) == {}
    assert "Authorization" not in headers  # plain http (the local stack): no token


def test_a_function_that_answers_an_error_is_logged(capsys: pytest.CaptureFixture) -> None:
    failing = Function(status=500)
    failing.release.set()
    try:
        warmup.send(Target("predict", failing.url))
        assert failing.received.wait(5)
        for _ in range(100):
            out = capsys.readouterr().out
            if out:
                break
            threading.Event().wait(0.05)
    finally:
        failing.stop()
    [line] = [json.loads(line) for line in out.splitlines()]
    assert (line["event"], line["function"]) == ("warm_up_failed", "predict")
    assert "HTTP 500" in line["message"]


def test_nothing_listening_is_logged_by_the_warmer(capsys: pytest.CaptureFixture) -> None:
    warmer = Warmer((Target("predict", f"http://127.0.0.1:{free_port()}/"),), 60.0)
    assert warmer.warm() == 0
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["event"] == "warm_up_failed"


class FakeIdTokenCredentials:
    def __init__(self) -> None:
        self.valid, self.token, self.refreshes = False, None, 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.valid, self.token = True, f"id-token-{self.refreshes}"


class RecordingConnection:
    made: ClassVar[list[RecordingConnection]] = []

    def __init__(self, host: str, port: int | None, timeout: float) -> None:
        self.host, self.port, self.sock = host, port, None
        self.sent: tuple[str, str, bytes, dict[str, str]] | None = None
        RecordingConnection.made.append(self)

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> None:
        self.sent = (method, path, body, headers)

    def getresponse(self) -> Any:
        raise ConnectionResetError("not a real connection")

    def close(self) -> None:
        pass


def test_over_https_the_request_carries_an_id_token_for_the_functions_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audiences: list[str] = []
    credentials = FakeIdTokenCredentials()

    def fetch(audience: str, request: Any = None) -> FakeIdTokenCredentials:
        audiences.append(audience)
        return credentials

    monkeypatch.setattr("google.oauth2.id_token.fetch_id_token_credentials", fetch)
    monkeypatch.setattr(warmup.http.client, "HTTPSConnection", RecordingConnection)
    warmup._id_token_credentials.cache_clear()
    RecordingConnection.made.clear()
    url = "https://predict-123456789.europe-west1.run.app"
    try:
        warmup.send(Target("predict", url))
        warmup.send(Target("predict", url))
    finally:
        warmup._id_token_credentials.cache_clear()
    assert audiences == [url]  # one credentials object per audience, its token reused while valid
    assert credentials.refreshes == 1
    first, second = RecordingConnection.made
    assert (first.host, first.port) == ("predict-123456789.europe-west1.run.app", None)
    method, path, _, headers = first.sent
    assert (method, path) == ("POST", "/")
    assert headers["Authorization"] == second.sent[3]["Authorization"] == "Bearer id-token-1"
    assert headers["ce-type"] == WARM_UP


def test_a_url_of_another_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="neither https nor http"):
        warmup.send(Target("predict", "ftp://example/"))


@pytest.mark.parametrize(("on_start", "expected"), [("1", 1), ("0", 0)])
def test_a_new_results_api_instance_warms_the_functions_as_it_starts(
    monkeypatch: pytest.MonkeyPatch, on_start: str, expected: int
) -> None:
    """Loading functions/results_api.py (what a new instance does before its first request)
    sends each function one warm-up when WARM_UP_ON_START is 1, and none when it is 0."""
    from shared.config import settings
    from tests.pipeline_support import function_client

    running = {"preprocess": Function(), "predict": Function()}
    for function in running.values():
        function.release.set()
    monkeypatch.setenv("PREPROCESS_URL", running["preprocess"].url)
    monkeypatch.setenv("PREDICT_URL", running["predict"].url)
    monkeypatch.setenv("WARM_UP_ON_START", on_start)
    settings.cache_clear()
    warmup.warmer.cache_clear()
    try:
        function_client("results_api")
        for function in running.values():
            function.received.wait(5 if expected else 0.5)
        assert {name: f.count() for name, f in running.items()} == {
            "preprocess": expected,
            "predict": expected,
        }
    finally:
        for function in running.values():
            function.stop()
        settings.cache_clear()
        warmup.warmer.cache_clear()
