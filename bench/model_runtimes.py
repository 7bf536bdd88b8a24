"""What a model's feature spec and runtime cost: features per clip by kind and pooling, and the
cold start of an ONNX model against a LiteRT one.

    .venv/bin/python -m bench.model_runtimes [--runs N] [--pairs N]

1. Feature cost: serving's numpy (`feature_matrix` + `model_inputs`) on a 5-s clip at
   16 kHz (n_fft 512, hop 160, 64 mel bands) for each kind (mfcc, log_mel, mel) and pooling
   (mean, mean_std, windows of 100 frames every 50, none of 500 frames), and at librosa's
   defaults (22050 Hz, n_fft 2048, 128 bands) for the MFCC mean of issue 18's example A;
   the median of N runs each, with librosa computing the same features (training/reference.py)
   in the same run, call for call alternately, as the baseline the ratio is taken against. The machine's load
   average is recorded: on a busy machine the milliseconds grow, the ratios much less.
2. Cold start: a fresh process (the venv's interpreter, as a function instance starts)
   that imports serving's code, loads a model folder and classifies examples/dry_cough.wav;
   the parent's wall clock from spawn to the first answer. ONNX: issue 18's example B
   (training/byom_examples.py, imported with `coughcloud models import`), ONNX Runtime.
   LiteRT: the shipped cough-classifier 1.1.0. Run in pairs (ONNX then LiteRT, then the
   next pair) after one untimed run of each, so load on the machine hits both alike; the
   median of the pairs' times and of their per-pair differences. (No peak RSS: a child's
   ru_maxrss starts from its parent's, so it would not be the child's own.)

Prints the figures and writes bench/results/model_runtimes.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.clip_cost import save_results
from bench.cold_start import LITERT_CHILD, PHASES, run_child
from shared.config import BUNDLED_MODEL_DIR, REPO_ROOT
from shared.ml.features import feature_matrix, model_inputs
from shared.ml.spec import FeatureSpec

RESULTS = Path(__file__).resolve().parent / "results" / "model_runtimes.json"
CLIP = REPO_ROOT / "examples" / "dry_cough.wav"
BASE = {"sample_rate": 16000, "n_fft": 512, "hop_length": 160, "win_length": 400, "n_mels": 64}
POOLINGS = {
    "mean": {"pooling": "mean"},
    "mean_std": {"pooling": "mean_std"},
    "windows": {"pooling": "windows", "window_frames": 100, "window_hop_frames": 50},
    "none": {"pooling": "none", "frames": 500},
}
KINDS = {"mfcc": {"kind": "mfcc"}, "log_mel": {"kind": "log_mel"}, "mel": {"kind": "mel"}}
EXAMPLE_A = {"kind": "mfcc", "sample_rate": 22050, "n_mfcc": 40, "pooling": "mean"}


def _paired_median_ms(first: Any, second: Any, runs: int) -> tuple[float, float]:
    """Median ms of each, called alternately (so a burst of load on the machine hits both)."""
    first(), second()  # caches (filterbank, window, DCT) built once per spec, as in a warm instance
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for work, kept in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            work()
            kept.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[0]), statistics.median(times[1])


def feature_costs(runs: int) -> list[dict[str, Any]]:
    from training.reference import librosa_features

    cases = [(f"{k} {p}", {**BASE, **KINDS[k], **POOLINGS[p]}) for k in KINDS for p in POOLINGS]
    cases.append(("mfcc mean, librosa defaults (example A)", EXAMPLE_A))
    rows = []
    for name, data in cases:
        spec = FeatureSpec.from_dict(data)
        y = (0.1 * np.random.default_rng(0).standard_normal(5 * spec.sample_rate)).astype(np.float32)
        numpy_ms, librosa_ms = _paired_median_ms(
            lambda spec=spec, y=y: model_inputs(feature_matrix(y, spec), spec),
            lambda spec=spec, y=y: model_inputs(librosa_features(y, spec), spec),
            runs,
        )
        row = {
            "features": name,
            "numpy_ms": round(numpy_ms, 3),
            "librosa_ms": round(librosa_ms, 3),
            "librosa_over_numpy": round(librosa_ms / numpy_ms, 2),
        }
        ratio = row["librosa_over_numpy"]
        print(f"{name:<42} numpy {numpy_ms:7.2f} ms   librosa {librosa_ms:7.2f} ms   ({ratio}x)")
        rows.append(row)
    return rows


def onnx_example(folder: Path) -> Path:
    """Issue 18's example B, built and imported (no --check: that is the tests' job)."""
    from coughcloud.model_import import import_model
    from training.byom_examples import SPEC_B, build_onnx_logmel

    model = build_onnx_logmel(folder / "src" / "model.onnx")
    spec = folder / "src" / "spec.json"
    spec.write_text(json.dumps(SPEC_B))
    out = folder / "b"
    import_model(model, spec, out, [], say=lambda _: None)
    return out


def cold_starts(pairs: int, onnx_dir: Path) -> dict[str, Any]:
    models = {"onnx": onnx_dir, "litert": BUNDLED_MODEL_DIR}
    described = {
        "onnx": "issue 18 example B: ONNX Runtime, ln-mel windows, logits",
        "litert": "cough-classifier 1.1.0: LiteRT, MFCC windows, probabilities",
    }
    for model_dir in models.values():  # untimed: OS file cache, .pyc files
        run_child(LITERT_CHILD, CLIP, model_dir)
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in models}
    for _ in range(pairs):
        for name, model_dir in models.items():
            samples[name].append(run_child(LITERT_CHILD, CLIP, model_dir))
    summary: dict[str, Any] = {}
    for name, runs in samples.items():
        summary[name] = {
            "model": described[name],
            "median_s": round(statistics.median(r["seconds"] for r in runs), 3),
            "min_s": round(min(r["seconds"] for r in runs), 3),
            "max_s": round(max(r["seconds"] for r in runs), 3),
            **{f"{p}_median": round(statistics.median(r[p] for r in runs), 3) for p in PHASES},
            "label": runs[0]["label"],
        }
        s = summary[name]
        print(
            f"cold start {name:<7} median {s['median_s']:.3f} s "
            f"(min {s['min_s']:.3f}, max {s['max_s']:.3f}); "
            f"imports {s['imports_s_median']:.3f} s, load {s['load_s_median']:.3f} s, first answer "
            f"{s['classify_s_median']:.3f} s; label {s['label']}"
        )
    paired = zip(samples["onnx"], samples["litert"], strict=True)
    differences = [onnx["seconds"] - litert["seconds"] for onnx, litert in paired]
    summary["pairs"] = pairs
    summary["onnx_minus_litert_median_s"] = round(statistics.median(differences), 3)
    summary["onnx_over_litert"] = round(summary["onnx"]["median_s"] / summary["litert"]["median_s"], 2)
    print(
        f"ONNX − LiteRT per pair: median {summary['onnx_minus_litert_median_s']:+.3f} s; "
        f"ratio of medians {summary['onnx_over_litert']}x ({pairs} pairs)"
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per feature case (default: 30)")
    parser.add_argument("--pairs", type=int, default=9, help="ONNX/LiteRT fresh-process pairs (default: 9)")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:  # first, while this process is small and idle
        cold = cold_starts(args.pairs, onnx_example(Path(folder)))
    features = feature_costs(args.runs)
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    print(f"load average (1 min) before and after: {load} on {os.cpu_count()} CPUs")
    save_results(
        RESULTS,
        {
            "benchmark": "model_runtimes",
            "how": "features: median of --runs calls on a 5-s noise clip, numpy (serving) and librosa "
            "(training/reference.py) alternately; cold start: fresh `python -c` children, spawn to "
            "first classification of examples/dry_cough.wav, ONNX and LiteRT alternated in pairs after "
            "one untimed run of each",
            "load_average_1min_before_after": load,
            "feature_cost_per_5s_clip": features,
            "cold_start": cold,
        },
    )


if __name__ == "__main__":
    main()
