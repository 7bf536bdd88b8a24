"""shared/pipeline/attempts.py on fakes: how a stage ends a delivery it does not complete.

The Pub/Sub publish and the final write (outcomes.finish_failed) are fakes (the `fakes`
fixture) that record what was asked of them, in order; log lines are read from stdout.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from google.api_core import exceptions as api_exceptions

from shared.errors import InputError
from shared.pipeline import attempts
from shared.pipeline.messages import Upload
from tests.unit.pipeline.fakes import MAX_ATTEMPTS, Fakes

STAGE = attempts.Stage(
    "predict", internal="A bug stopped it.", gave_up="Gave up after {attempts} deliveries."
)
UPLOAD = Upload("bucket", "a.wav", 7, 1000, "audio/wav")
DEAD_LETTER = attempts.DeadLetter("dead-letters", b"the message", {"key": "k"})


def events(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def failed(code: str, message: str) -> tuple[str, Any]:
    return ("failed", ("predict", UPLOAD.key, 7, code, message, {"fresh": UPLOAD, "trace_id": "t"}))


@pytest.mark.parametrize("attempt", range(1, MAX_ATTEMPTS))
def test_a_transient_fault_before_the_last_attempt_raises_for_a_redelivery(
    fakes: Fakes, capsys: pytest.CaptureFixture[str], attempt: int
) -> None:
    error = api_exceptions.ServiceUnavailable("firestore down")
    with pytest.raises(api_exceptions.ServiceUnavailable) as raised:
        attempts.handle_fault(STAGE, UPLOAD, attempt, error, DEAD_LETTER, "t")
    assert raised.value is error
    assert fakes.calls == []  # nothing written, nothing dead-lettered
    [line] = events(capsys)
    assert (line["severity"], line["stage"], line["attempt"]) == ("WARNING", "predict", attempt)


def test_the_last_attempt_dead_letters_first_then_marks_the_document_failed(
    fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    error = api_exceptions.ServiceUnavailable("firestore down")
    attempts.handle_fault(STAGE, UPLOAD, MAX_ATTEMPTS, error, DEAD_LETTER, "t")
    count = {"key": "k", "CloudPubSubDeadLetterSourceDeliveryCount": str(MAX_ATTEMPTS)}
    assert fakes.calls == [
        ("publish", ("dead-letters", b"the message", count)),
        failed("internal", f"Gave up after {MAX_ATTEMPTS} deliveries."),
    ]
    [line] = events(capsys)
    assert (line["event"], line["attempts"], line["error_type"]) == (
        "gave_up",
        MAX_ATTEMPTS,
        "ServiceUnavailable",
    )


def test_a_failed_dead_letter_publish_raises_and_leaves_the_document_for_the_redelivery(fakes: Fakes) -> None:
    fakes.publish_error = api_exceptions.ServiceUnavailable("pubsub down")
    with pytest.raises(api_exceptions.ServiceUnavailable, match="pubsub down"):
        attempts.handle_fault(STAGE, UPLOAD, MAX_ATTEMPTS, TimeoutError("slow"), DEAD_LETTER, "t")
    assert fakes.calls == []


def test_a_bug_fails_the_upload_at_once_without_a_retry_or_a_dead_letter(
    fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    attempts.handle_fault(STAGE, UPLOAD, 1, KeyError("label"), DEAD_LETTER, "t")
    assert fakes.calls == [failed("internal", "A bug stopped it.")]
    [line] = events(capsys)
    assert (line["severity"], line["error_type"]) == ("ERROR", "KeyError")


def test_give_up_without_a_known_fault_counts_the_deliveries_spent(
    fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    attempts.give_up(STAGE, UPLOAD, 5, None, DEAD_LETTER, "t")
    assert fakes.calls[0] == ("publish", ("dead-letters", b"the message", {"key": "k", **_count(5)}))
    assert fakes.calls[1] == failed("internal", "Gave up after 5 deliveries.")
    [line] = events(capsys)
    assert line["attempts"] == 5 and "error_type" not in line


def _count(n: int) -> dict[str, str]:
    return {"CloudPubSubDeadLetterSourceDeliveryCount": str(n)}


def test_bad_input_is_recorded_with_its_code_and_logged_with_the_time_spent(
    fakes: Fakes, capsys: pytest.CaptureFixture[str]
) -> None:
    error = InputError("too_short", "The recording is too short.")
    attempts.record_failure(STAGE, UPLOAD, error, time.perf_counter() - 0.25, "t")
    assert fakes.calls == [failed("too_short", "The recording is too short.")]
    [line] = events(capsys)
    assert (line["event"], line["code"]) == ("upload_failed", "too_short")
    assert line["latency_ms"] >= 250


@pytest.mark.parametrize(
    ("recorded", "message"),
    [
        (None, "Dropped the work on an upload its owner erased meanwhile"),
        ({}, "Dropped the work on an upload its owner erased meanwhile"),
        (
            {"generation": 8, "status": "received"},
            "Ignored stale generation 7: generation 8 is already recorded",
        ),
        ({"generation": 7, "status": "done"}, "Ignored a repeated delivery: the result is already done"),
        ({"generation": None, "status": None}, "Ignored a repeated delivery: the result is already None"),
    ],
)
def test_a_skipped_delivery_logs_why_from_the_document_it_found(
    fakes: Fakes, capsys: pytest.CaptureFixture[str], recorded: dict[str, Any] | None, message: str
) -> None:
    attempts.log_skipped(STAGE, UPLOAD, recorded, "t")
    [line] = events(capsys)
    assert (line["message"], line["stage"], line["generation"]) == (message, "predict", 7)
    assert fakes.calls == []


def test_elapsed_ms_counts_from_a_perf_counter_reading() -> None:
    started = time.perf_counter() - 1.5
    assert 1500 <= attempts.elapsed_ms(started) < 1500 + 60_000
