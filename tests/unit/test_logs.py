"""shared/logs.py: one JSON object per line, in Cloud Logging's structured format."""

from __future__ import annotations

import json

import pytest

from shared import logs
from shared.config import settings


@pytest.fixture(autouse=True)
def project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "proj")
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    settings.cache_clear()
    yield
    settings.cache_clear()


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_pipeline_lines_carry_key_stage_generation_latency_and_trace(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs.log_features_published("k1", 7, "m1", 12.34567, {"decode_ms": 1.0}, "t" * 32)
    [entry] = lines(capsys)
    assert entry["severity"] == "INFO"
    assert entry["message"] == "Features published as message m1"
    assert entry["logging.googleapis.com/trace"] == "projects/proj/traces/" + "t" * 32
    assert (entry["key"], entry["stage"], entry["generation"], entry["latency_ms"]) == (
        "k1",
        "preprocess",
        7,
        12.346,
    )
    assert entry["timings"] == {"decode_ms": 1.0}


def test_every_pipeline_line_has_the_common_fields(capsys: pytest.CaptureFixture[str]) -> None:
    error = ValueError("bad")
    logs.log_upload_received("k", 1, "a.wav", 10, "audio/wav", 1, "t")
    logs.log_stale_generation("k", "predict", 1, 2, None)
    logs.log_duplicate_delivery("k", "predict", 1, "done", None)
    logs.log_upload_failed("k", "preprocess", 1, "too_short", "short", 3.0, "t")
    logs.log_retrying("k", "preprocess", 1, 2, error, "t")
    logs.log_unexpected_error("k", "predict", 1, error, "t")
    logs.log_gave_up("k", "preprocess", 1, 5, error, "t")
    logs.log_prediction_done("k", 1, "dry", 0.9, "found", "cough-classifier", "1.0.0", 4.0, {}, "t")
    logs.log_result_published("k", "predict", 1, "done", None, "m", "t")
    logs.log_dead_lettered("k", 1, "features", True, None)
    entries = lines(capsys)
    assert len(entries) == 10
    for entry in entries:
        assert {"severity", "message", "key", "stage", "generation", "latency_ms"} <= set(entry)
    assert [e["severity"] for e in entries if "stack_trace" in e] == ["WARNING", "ERROR", "ERROR"]
    assert "ValueError: bad" in entries[4]["stack_trace"]


def test_lines_below_log_level_are_dropped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    settings.cache_clear()
    logs.log_result_published("k", "predict", 1, "done", None, "m", None)
    logs.log_gave_up("k", "predict", 1, 5, None, None)
    assert [e["severity"] for e in lines(capsys)] == ["ERROR"]


def test_non_ascii_and_odd_values_stay_valid_json(capsys: pytest.CaptureFixture[str]) -> None:
    logs.log_upload_received("k", 1, 'ä/\n"x".wav', 1, "", 1, "t")
    [entry] = lines(capsys)
    assert entry["name"] == 'ä/\n"x".wav'
    assert "no content type" in entry["message"]
