"""The training report: metrics as JSON; confusion matrix, reliability diagram, held-out sources and
training curves as PNG."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from shared.ml.model import INCONCLUSIVE


def clip_metrics(truth: list[str], predicted: list[str], labels: tuple[str, ...]) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1 and the confusion matrix (rows: truth).

    `predicted` may contain `inconclusive` (below the threshold): it counts as wrong for
    accuracy and recall, and gets its own confusion-matrix column.
    """
    columns = (*labels, INCONCLUSIVE)
    matrix = np.zeros((len(labels), len(columns)), dtype=int)
    for t, p in zip(truth, predicted, strict=True):
        matrix[labels.index(t), columns.index(p)] += 1
    per_class = {}
    for i, label in enumerate(labels):
        true_positive = int(matrix[i, i])
        predicted_as = int(matrix[:, i].sum())
        actual = int(matrix[i].sum())
        precision = true_positive / predicted_as if predicted_as else 0.0
        recall = true_positive / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": actual,
        }
    total = int(matrix.sum())
    return {
        "clips": total,
        "accuracy": round(float(np.trace(matrix[:, : len(labels)])) / total, 4) if total else 0.0,
        "inconclusive_rate": round(float(matrix[:, -1].sum()) / total, 4) if total else 0.0,
        "per_class": per_class,
        "confusion_matrix": {"rows": list(labels), "columns": list(columns), "counts": matrix.tolist()},
    }


def plot_confusion(metrics: dict[str, Any], path: Path) -> None:
    confusion = metrics["confusion_matrix"]
    counts = np.array(confusion["counts"])
    fig, ax = plt.subplots(figsize=(4.8, 3.6), dpi=80)
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(counts.shape[1]), confusion["columns"], rotation=30)
    ax.set_yticks(range(counts.shape[0]), confusion["rows"])
    for (i, j), value in np.ndenumerate(counts):
        ax.text(j, i, str(value), ha="center", va="center", color="black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"synthetic test clips (accuracy {metrics['accuracy']:.3f})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_history(history: dict[str, list[float]], path: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 3.0), dpi=80)
    for key, axis in (("loss", left), ("accuracy", right)):
        axis.plot(history.get(key, []), label="train")
        axis.plot(history.get(f"val_{key}", []), label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(f"window {key}")
        axis.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_reliability(calibration: dict[str, Any], path: Path) -> None:
    """Mean confidence against accuracy per bin (the diagonal is perfect calibration)."""
    bins = calibration["bins"]
    fig, ax = plt.subplots(figsize=(4.2, 4.0), dpi=80)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    widths = [b["upper"] - b["lower"] for b in bins]
    ax.bar(
        [b["lower"] for b in bins],
        [b["accuracy"] for b in bins],
        widths,
        align="edge",
        alpha=0.6,
        edgecolor="black",
        label="accuracy",
    )
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o", color="black", markersize=3)
    for b in bins:  # few clips in a bin make its bar noisy: say how many
        ax.text(b["lower"] + (b["upper"] - b["lower"]) / 2, 0.02, str(b["clips"]), ha="center", fontsize=6)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("top probability (confidence)")
    ax.set_ylabel("share correct")
    ax.set_title(f"reliability, {calibration['clips']} test clips (ECE {calibration['ece']:.3f})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_held_out(real: dict[str, Any], path: Path) -> None:
    """Per held-out source: the share called a cough and the share inconclusive."""
    names = list(real["by_source"])
    cough = [real["by_source"][n]["called_cough_rate"] for n in names]
    unsure = [real["by_source"][n]["inconclusive_rate"] for n in names]
    fig, ax = plt.subplots(figsize=(6.4, 0.45 * len(names) + 1.4), dpi=80)
    ax.barh(names, cough, color="tab:red", label="called dry/wet")
    ax.barh(names, unsure, left=cough, color="tab:grey", label="inconclusive")
    ax.axvline(0.05, color="black", linestyle=":", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the source's clips")
    ax.set_title(f"held-out real non-coughs: {real['called_cough_rate']:.1%} called a cough")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(folder: Path, metrics: dict[str, Any], history: dict[str, list[float]]) -> dict[str, str]:
    """Write metrics.json and the PNGs; their paths by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "metrics": folder / "metrics.json",
        "confusion_matrix": folder / "confusion_matrix.png",
        "reliability": folder / "reliability.png",
        "training_curves": folder / "training_curves.png",
    }
    paths["metrics"].write_text(
        json.dumps({**metrics, "history": history}, indent=2) + "\n", encoding="utf-8"
    )
    plot_confusion(metrics["synthetic"], paths["confusion_matrix"])
    plot_reliability(metrics["calibration"], paths["reliability"])
    plot_history(history, paths["training_curves"])
    return {kind: str(path) for kind, path in paths.items()}
