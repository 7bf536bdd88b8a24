"""Two versions compared on the same uploads (`coughcloud models compare A B`).

A result document holds a version's answer in one of three places: the answer itself
(`model.version`), the shadow's (`shadow.model.version`), or a re-scoring's
(`scores.<version>`, `coughcloud rescore`). Pure: documents in, a JSON-ready dict out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from shared.stats.summary import _latency


def answer_of(document: dict[str, Any], version: str) -> dict[str, Any] | None:
    """{label, confidence, latency_ms, source} of `version` on this upload, or None."""
    model = document.get("model") or {}
    if document.get("status") == "done" and model.get("version") == version:
        timings = document.get("timings") or {}
        return _answer(document, timings.get("inference_ms"), "served")
    shadow = document.get("shadow") or {}
    if (shadow.get("model") or {}).get("version") == version:
        return _answer(shadow, shadow.get("inference_ms"), "shadow")
    score = (document.get("scores") or {}).get(version)
    if isinstance(score, dict) and score.get("label"):
        return _answer(score, score.get("inference_ms"), "rescore")
    return None


def _answer(source: dict[str, Any], latency_ms: Any, kind: str) -> dict[str, Any]:
    latency = float(latency_ms) if isinstance(latency_ms, int | float) else None
    return {"label": source.get("label"), "confidence": source.get("confidence"),
            "latency_ms": latency, "source": kind}  # fmt: skip


def _version_summary(answers: list[dict[str, Any]]) -> dict[str, Any]:
    confidences = [float(a["confidence"]) for a in answers if isinstance(a["confidence"], int | float)]
    latencies = [a["latency_ms"] for a in answers if a["latency_ms"] is not None]
    return {
        "answers": len(answers),
        "sources": dict(Counter(a["source"] for a in answers)),
        "labels": dict(Counter(a["label"] for a in answers)),
        "confidence": {
            "mean": round(float(np.mean(confidences)), 4),
            "p10": round(float(np.percentile(confidences, 10)), 4),
            "p50": round(float(np.percentile(confidences, 50)), 4),
        }
        if confidences
        else None,
        "inference_ms": _latency(latencies) if latencies else None,
    }


def compare(documents: Iterable[dict[str, Any]], a: str, b: str) -> dict[str, Any]:
    """Per version: labels, confidence, latency; on uploads both answered: agreement and its matrix."""
    seen = 0
    answers: dict[str, list[dict[str, Any]]] = {a: [], b: []}
    matrix: Counter[tuple[str, str]] = Counter()
    confidences: dict[str, list[float]] = {a: [], b: []}
    for document in documents:
        seen += 1
        pair = answer_of(document, a), answer_of(document, b)
        for version, answer in zip((a, b), pair, strict=True):
            if answer is not None:
                answers[version].append(answer)
                if isinstance(answer["confidence"], int | float):
                    confidences[version].append(float(answer["confidence"]))
        if pair[0] is not None and pair[1] is not None:
            matrix[(str(pair[0]["label"]), str(pair[1]["label"]))] += 1
    paired = sum(matrix.values())
    agreed = sum(n for (la, lb), n in matrix.items() if la == lb)
    labels = sorted({label for pair in matrix for label in pair})
    return {
        "a": a,
        "b": b,
        "documents": seen,
        "paired": paired,
        "agreement": round(agreed / paired, 4) if paired else None,
        "labels": labels,
        "matrix": [[matrix[(la, lb)] for lb in labels] for la in labels],
        "versions": {version: _version_summary(answers[version]) for version in (a, b)},
        "confidences": confidences,
    }


def format_table(comparison: dict[str, Any]) -> str:
    a, b = comparison["a"], comparison["b"]
    agreement = comparison["agreement"]
    lines = [
        f"{a} vs {b}: {comparison['documents']} results read, {comparison['paired']} answered by both"
        + (f", agreement {agreement:.1%}" if agreement is not None else ""),
    ]
    if comparison["paired"]:
        labels = comparison["labels"]
        corner = f"{a} (rows) / {b}"
        width = max(12, *(len(label) + 2 for label in labels))
        lines.append("")
        lines.append(f"{corner:<{width}}  " + "".join(f"{label:>{width}}" for label in labels))
        for label, row in zip(labels, comparison["matrix"], strict=True):
            lines.append(f"{label:<{width}}  " + "".join(f"{n:>{width}}" for n in row))
    for version in (a, b):
        summary = comparison["versions"][version]
        lines.append("")
        lines.append(f"{version}: {summary['answers']} answers ({_counts(summary['sources'])})")
        if not summary["answers"]:
            continue
        lines.append(f"  labels      {_counts(summary['labels'])}")
        confidence = summary["confidence"]
        if confidence:
            lines.append(
                f"  confidence  mean {confidence['mean']:.3f}, p10 {confidence['p10']:.3f}, "
                f"p50 {confidence['p50']:.3f}"
            )
        latency = summary["inference_ms"]
        if latency:
            lines.append(f"  inference   p50 {latency['p50']:.3f} ms, p95 {latency['p95']:.3f} ms")
    return "\n".join(lines)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counts.items())) or "none"
