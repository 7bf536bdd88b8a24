"""shared/stats/summary.py on result documents built here (no emulator)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.stats.summary import format_table, summarize

NOW = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
V1 = {"name": "cough-classifier", "version": "1.0.0", "sha256": "a"}
V2 = {"name": "cough-classifier", "version": "1.1.0", "sha256": "b"}


def doc(minutes_ago: float, status: str = "done", **fields: Any) -> dict[str, Any]:
    at = NOW - timedelta(minutes=minutes_ago)
    base = {"status": status, "error": None, "label": None, "model": None, "timings": {}}
    return {**base, "created_at": at - timedelta(seconds=1), "updated_at": at, **fields}


def test_latency_per_timings_key_counts_only_documents_that_have_it() -> None:
    docs = [doc(1, timings={"decode_ms": float(ms), "pipeline_ms": 10.0 * ms}) for ms in range(1, 101)]
    docs.append(doc(1, "failed", error={"code": "too_short"}, timings={"decode_ms": 1000.0}))
    latency = summarize(docs, NOW, 5)["latency_ms"]
    assert set(latency) == {"decode_ms", "pipeline_ms"}
    assert latency["pipeline_ms"] == {"count": 100, "p50": 505.0, "p95": 950.5, "p99": 990.1, "max": 1000.0}
    assert latency["decode_ms"]["count"] == 101 and latency["decode_ms"]["max"] == 1000.0
    assert latency["decode_ms"]["p50"] == 51.0


def test_only_documents_updated_inside_the_window_count() -> None:
    docs = [
        doc(0.5),
        doc(14.9),
        doc(15.1),  # just outside 15 minutes
        doc(-1),  # written after `until`
        {"status": "received", "updated_at": None, "created_at": NOW - timedelta(minutes=2)},
        {"status": "received"},  # no time at all: cannot be placed in a window
    ]
    summary = summarize(docs, NOW, 15)
    assert summary["documents"] == 3
    assert summary["status"] == {"done": 2, "received": 1}
    assert summarize(docs, NOW, 16)["documents"] == 4
    assert summary["since"] == (NOW - timedelta(minutes=15)).isoformat()
    with pytest.raises(ValueError, match="positive"):
        summarize(docs, NOW, 0)


def test_counts_by_status_and_error_code() -> None:
    docs = [
        doc(1, "failed", error={"code": "too_short", "message": "m"}),
        doc(2, "failed", error={"code": "too_short", "message": "m"}),
        doc(3, "failed", error={"code": "unsupported_format", "message": "m"}),
        doc(4, "failed", error=None),
        doc(5, "features_ready"),
        doc(6, "done", label="dry", model=V1),
    ]
    summary = summarize(docs, NOW, 10)
    assert summary["status"] == {"failed": 4, "features_ready": 1, "done": 1}
    assert summary["errors"] == {"too_short": 2, "unsupported_format": 1, "unknown": 1}


def test_labels_per_model_version() -> None:
    docs = [
        doc(1, label="dry", model=V1),
        doc(1, label="dry", model=V1),
        doc(1, label="wet", model=V1),
        doc(1, label="inconclusive", model=V2),
        doc(1, label="not_cough", model=V2),
        doc(1, "failed", error={"code": "model_error"}, label=None, model=V2),
    ]
    labels = summarize(docs, NOW, 10)["labels"]
    assert labels == {
        "cough-classifier@1.0.0": {"dry": 2, "wet": 1},
        "cough-classifier@1.1.0": {"inconclusive": 1, "not_cough": 1},
    }
    table = format_table(summarize(docs, NOW, 10))
    assert "cough-classifier@1.0.0: dry 2 (67%), wet 1 (33%)" in table
    assert "model_error" in table


def test_an_empty_window_is_a_summary_not_an_error() -> None:
    summary = summarize([doc(90)], NOW, 60)
    assert summary["documents"] == 0
    for part in ("status", "errors", "latency_ms", "labels"):
        assert summary[part] == {}
    assert "0 results" in format_table(summary)


def test_labels_follow_the_models_order_when_results_carry_it() -> None:
    own = {"name": "sound-classifier", "version": "1.0.0", "labels": ["cough", "speech", "noise"]}
    docs = [
        doc(1, label="noise", model=own),
        doc(1, label="noise", model=own),
        doc(1, label="inconclusive", model=own),
    ]
    labels = summarize(docs, NOW, 10)["labels"]
    # Every label of the model in its order, one never answered included, then inconclusive.
    assert list(labels["sound-classifier@1.0.0"].items()) == [
        ("cough", 0),
        ("speech", 0),
        ("noise", 2),
        ("inconclusive", 1),
    ]
    assert "sound-classifier@1.0.0: cough 0 (0%), speech 0 (0%), noise 2 (67%)" in format_table(
        summarize(docs, NOW, 10)
    )
