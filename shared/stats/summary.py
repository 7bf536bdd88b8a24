"""A summary of result documents (`results/{key}`, docs/design/contracts.md) over a time window.

Pure: documents in, a JSON-ready dict out, so it is the same for the emulator and for Cloud.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from shared.ml.labels import LabelSet

PERCENTILES: tuple[int, ...] = (50, 95, 99)
NO_ERROR_CODE = "unknown"  # a `failed` document whose error has no code (should not happen)


def _latency(values: list[float]) -> dict[str, float | int]:
    """Count, p50/p95/p99 (numpy's linear interpolation) and max of one stage's figures."""
    figures: dict[str, float | int] = {"count": len(values)}
    for q, value in zip(PERCENTILES, np.percentile(values, PERCENTILES), strict=True):
        figures[f"p{q}"] = round(float(value), 3)
    figures["max"] = max(values)
    return figures


def _when(document: dict[str, Any]) -> datetime | None:
    at = document.get("updated_at") or document.get("created_at")
    return at if isinstance(at, datetime) else None


def model_version(model: Any) -> str:
    """How a result's model is named in the summary: `name@version`."""
    if not isinstance(model, dict):
        return "unknown"
    return f"{model.get('name') or 'unknown'}@{model.get('version') or 'unknown'}"


def in_window(documents: Iterable[dict[str, Any]], until: datetime, minutes: float) -> list[dict[str, Any]]:
    """The documents last written in the `minutes` before `until` (tz-aware datetimes)."""
    since = until - timedelta(minutes=minutes)
    return [doc for doc in documents if (at := _when(doc)) is not None and since <= at <= until]


def summarize(documents: Iterable[dict[str, Any]], until: datetime, minutes: float) -> dict[str, Any]:
    """Counts by status and error code, latency percentiles per `timings` key and labels per
    model version (in the model's order, from `model.labels` of its results), over the
    documents updated in the `minutes` before `until`."""
    if minutes <= 0:
        raise ValueError(f"the window must be a positive number of minutes, not {minutes}")
    window = in_window(documents, until, minutes)
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    timings: dict[str, list[float]] = {}
    labels: dict[str, Counter[str]] = {}
    orders: dict[str, tuple[str, ...]] = {}  # each version's labels, as its results carry them
    for doc in window:
        status = str(doc.get("status") or "unknown")
        statuses[status] += 1
        if status == "failed":
            error = doc.get("error") if isinstance(doc.get("error"), dict) else {}
            errors[str(error.get("code") or NO_ERROR_CODE)] += 1
        for stage, ms in (doc.get("timings") or {}).items():
            if isinstance(ms, int | float) and not isinstance(ms, bool):
                timings.setdefault(stage, []).append(float(ms))
        if status == "done" and doc.get("label"):
            version = model_version(doc.get("model"))
            labels.setdefault(version, Counter())[str(doc["label"])] += 1
            carried = LabelSet.of_model_info(doc.get("model"))
            if carried is not None:
                orders[version] = carried.labels
    return {
        "since": (until - timedelta(minutes=minutes)).isoformat(),
        "until": until.isoformat(),
        "minutes": minutes,
        "documents": len(window),
        "status": dict(statuses.most_common()),
        "errors": dict(errors.most_common()),
        "latency_ms": {stage: _latency(values) for stage, values in sorted(timings.items())},
        "labels": {
            version: _in_order(counts, orders.get(version, ())) for version, counts in sorted(labels.items())
        },
    }


def _in_order(counts: Counter[str], order: tuple[str, ...]) -> dict[str, int]:
    """Every label of the model in its order (0 for one never answered), then the rest
    (inconclusive, labels of results that do not carry their model's) by count."""
    ordered = {label: counts[label] for label in order}
    return ordered | {label: n for label, n in counts.most_common() if label not in ordered}


def format_table(summary: dict[str, Any]) -> str:
    """The summary as plain text columns, for a terminal."""
    lines = [f"{summary['documents']} results updated {summary['since']} … {summary['until']}"]
    lines.append("status")
    lines += [f"  {status:<16}{count:>8}" for status, count in summary["status"].items()] or ["  (none)"]
    if summary["errors"]:
        lines.append("failed, by error code")
        lines += [f"  {code:<24}{count:>8}" for code, count in summary["errors"].items()]
    lines.append(f"latency (ms)  {'stage':<20}{'count':>7}" + "".join(f"{f'p{q}':>10}" for q in PERCENTILES))
    for stage, figures in summary["latency_ms"].items():
        cells = "".join(f"{figures[f'p{q}']:>10.1f}" for q in PERCENTILES)
        lines.append(f"              {stage:<20}{figures['count']:>7}{cells}")
    lines.append("labels, by model version")
    for version, counts in summary["labels"].items():
        total = sum(counts.values())
        shares = ", ".join(f"{label} {n} ({n / total:.0%})" for label, n in counts.items())
        lines.append(f"  {version}: {shares}")
    if not summary["labels"]:
        lines.append("  (none)")
    return "\n".join(lines)
