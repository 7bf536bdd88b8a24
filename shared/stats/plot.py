"""PNG charts of a summary (`coughcloud stats --plot DIR`). matplotlib is imported here only,
when charts are asked for: it is not in the functions' requirements."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.stats.summary import PERCENTILES


def write_charts(summary: dict[str, Any], directory: Path) -> list[Path]:
    """Write status.png, latency.png and labels.png into `directory`; their paths."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    title = f"last {summary['minutes']:g} min, {summary['documents']} results"
    written = []

    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].bar(list(summary["status"]), list(summary["status"].values()))
    axes[0].set_title("by status")
    axes[1].bar(list(summary["errors"]), list(summary["errors"].values()), color="tab:red")
    axes[1].set_title("failed, by error code")
    for ax in axes:
        ax.tick_params(axis="x", rotation=30)
    figure.suptitle(title)
    written.append(_save(figure, directory / "status.png"))

    stages = list(summary["latency_ms"])
    figure, ax = plt.subplots(figsize=(max(6, len(stages) * 1.2), 4))
    width = 0.8 / len(PERCENTILES)
    for i, q in enumerate(PERCENTILES):
        values = [summary["latency_ms"][stage][f"p{q}"] for stage in stages]
        ax.bar([n + i * width for n in range(len(stages))], values, width, label=f"p{q}")
    ax.set_xticks([n + width for n in range(len(stages))], stages, rotation=30)
    ax.set_ylabel("ms")
    ax.set_title(f"latency per stage ({title})")
    ax.legend()
    written.append(_save(figure, directory / "latency.png"))

    versions = list(summary["labels"])
    labels = sorted({label for counts in summary["labels"].values() for label in counts})
    figure, ax = plt.subplots(figsize=(max(6, len(versions) * 2), 4))
    bottom = [0] * len(versions)
    for label in labels:
        counts = [summary["labels"][version].get(label, 0) for version in versions]
        ax.bar(versions, counts, bottom=bottom, label=label)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_title(f"labels per model version ({title})")
    if labels:
        ax.legend()
    written.append(_save(figure, directory / "labels.png"))
    return written


def _save(figure: Any, path: Path) -> Path:
    from matplotlib import pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
