"""The PNG of `coughcloud models compare --plot DIR`. matplotlib is imported here only: it is
not in the functions' requirements."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_chart(comparison: dict[str, Any], directory: Path) -> Path:
    """compare-<A>-<B>.png: the agreement matrix, the labels and the confidences of both versions."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    from matplotlib import pyplot as plt

    a, b = comparison["a"], comparison["b"]
    directory.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))

    labels = comparison["labels"]
    axes[0].imshow(comparison["matrix"] or [[0]], cmap="Blues")
    axes[0].set_xticks(range(len(labels)), labels, rotation=30)
    axes[0].set_yticks(range(len(labels)), labels)
    for i, row in enumerate(comparison["matrix"]):
        for j, n in enumerate(row):
            axes[0].text(j, i, str(n), ha="center", va="center")
    axes[0].set_xlabel(b)
    axes[0].set_ylabel(a)
    agreement = comparison["agreement"]
    axes[0].set_title("agreement " + (f"{agreement:.1%}" if agreement is not None else "(no pairs)"))

    names = sorted({label for v in (a, b) for label in comparison["versions"][v]["labels"]})
    width = 0.4
    for offset, version in ((-width / 2, a), (width / 2, b)):
        counts = comparison["versions"][version]["labels"]
        axes[1].bar([i + offset for i in range(len(names))], [counts.get(n, 0) for n in names], width,
                    label=version)  # fmt: skip
    axes[1].set_xticks(range(len(names)), names, rotation=30)
    axes[1].set_title("labels")
    axes[1].legend()

    axes[2].hist([comparison["confidences"][a], comparison["confidences"][b]], bins=20, range=(0, 1),
                 label=[a, b])  # fmt: skip
    axes[2].set_title("confidence")
    axes[2].legend()

    figure.suptitle(f"{a} vs {b}: {comparison['paired']} uploads answered by both")
    figure.tight_layout()
    path = directory / f"compare-{a}-{b}.png"
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
