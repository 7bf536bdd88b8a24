"""Cold start: a fresh process classifying one clip, LiteRT path vs a TensorFlow + librosa baseline.

    .venv/bin/python -m bench.cold_start [--runs N]

Each run is a new Python process (the venv's interpreter, as a function instance
would start). The time is the parent's wall clock from spawning the child to the
child reporting its first classification; peak RSS is the child's own
`resource.getrusage(RUSAGE_SELF).ru_maxrss` at that moment.

- LiteRT path: import shared.ml.classify + shared.ml.model, load the shipped model folder,
  classify_bytes (decode, checks, numpy MFCC, LiteRT) on the clip.
- Baseline (the student deployment this project replaces): import tensorflow and
  librosa, load the same model's .keras file, librosa.load + librosa MFCC with the
  same parameters, model(x).

Both classify examples/dry_cough.wav (librosa cannot read webm); the LiteRT path is
also timed on examples/wet_cough.webm (PyAV imported on demand). The median of N runs
is reported, after one untimed run of each that warms the OS file cache and numba's
on-disk cache. Prints the figures and writes bench/results/cold_start.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.clip_cost import save_results
from shared.config import BUNDLED_MODEL_DIR, REPO_ROOT

RESULTS = Path(__file__).resolve().parent / "results" / "cold_start.json"
WAV = REPO_ROOT / "examples" / "dry_cough.wav"
WEBM = REPO_ROOT / "examples" / "wet_cough.webm"
TARGET_S = 0.4
TARGET_RATIO = 10.0
TARGET_RSS_MB = 120.0
# Where the time goes: interpreter start + imports, model load, first classification.
PHASES = ("imports_s", "load_s", "classify_s")

_REPORT = """
import json, resource, sys, time
print(json.dumps({"done_at": time.time(), "imported_at": imported_at, "loaded_at": loaded_at, "label": label,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
"""

LITERT_CHILD = (
    """
import sys, time
from shared.ml.classify import classify_bytes
from shared.ml.model import load_model
imported_at = time.time()
model = load_model(sys.argv[1])
loaded_at = time.time()
label = classify_bytes(open(sys.argv[2], "rb").read(), model)["label"]
"""
    + _REPORT
)

BASELINE_CHILD = (
    """
import os, sys, time
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import numpy as np
import keras, librosa, tensorflow
import training.net  # registers the layers of the shipped model.keras (Masks)
from shared.ml.features import model_inputs
from shared.ml.model import spec_of
imported_at = time.time()
metadata = __import__("json").load(open(sys.argv[1] + "/metadata.json"))
spec = spec_of(metadata, sys.argv[1])
model = keras.models.load_model(sys.argv[1] + "/model.keras")
loaded_at = time.time()
y, _ = librosa.load(sys.argv[2], sr=spec.sample_rate)
mel = librosa.feature.melspectrogram(y=y, sr=spec.sample_rate, n_fft=spec.n_fft, hop_length=spec.hop_length,
    win_length=spec.win_length, n_mels=spec.n_mels, fmin=spec.fmin, fmax=spec.fmax)
features = librosa.feature.mfcc(S=librosa.power_to_db(mel, top_db=spec.top_db), n_mfcc=spec.n_mfcc)
probabilities = np.mean(np.asarray(model(model_inputs(features, spec))), axis=0)
label = metadata["labels"][int(np.argmax(probabilities))]
"""
    + _REPORT
)


def run_child(code: str, clip: Path, model_dir: Path = BUNDLED_MODEL_DIR) -> dict[str, float | str]:
    """One fresh process: seconds from spawn to its first classification, and its peak RSS."""
    started = time.time()
    child = subprocess.run(
        [sys.executable, "-c", code, str(model_dir), str(clip)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    if child.returncode != 0:
        raise RuntimeError(f"child failed: {child.stderr[-2000:]}")
    report = json.loads(child.stdout.strip().splitlines()[-1])
    return {
        "seconds": report["done_at"] - started,
        "imports_s": report["imported_at"] - started,
        "load_s": report["loaded_at"] - report["imported_at"],
        "classify_s": report["done_at"] - report["loaded_at"],
        "rss_mb": report["rss_mb"],
        "label": report["label"],
    }


def series(name: str, code: str, clip: Path, runs: int) -> dict:
    run_child(code, clip)  # untimed: OS file cache, numba's cache, .pyc files
    samples = [run_child(code, clip) for _ in range(runs)]
    seconds = [s["seconds"] for s in samples]
    summary = {
        "path": name,
        "clip": clip.name,
        "runs": runs,
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        **{f"{phase}_median": round(statistics.median(s[phase] for s in samples), 3) for phase in PHASES},
        "peak_rss_mb": round(max(float(s["rss_mb"]) for s in samples), 1),
        "label": samples[0]["label"],
    }
    print(
        f"{name:<22} {clip.name:<16} median {summary['median_s']:.3f} s "
        f"(min {summary['min_s']:.3f}, max {summary['max_s']:.3f}), peak RSS {summary['peak_rss_mb']:.0f} MB,"
        f" label {summary['label']}\n{'':<22} imports {summary['imports_s_median']:.3f} s, model load "
        f"{summary['load_s_median']:.3f} s, first classification {summary['classify_s_median']:.3f} s"
    )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="timed fresh processes per path (default: 11)")
    args = parser.parse_args()
    litert = series("litert (numpy MFCC)", LITERT_CHILD, WAV, args.runs)
    litert_webm = series("litert (numpy MFCC)", LITERT_CHILD, WEBM, args.runs)
    baseline = series("tensorflow + librosa", BASELINE_CHILD, WAV, max(2, args.runs // 2))
    ratio = round(baseline["median_s"] / litert["median_s"], 1)
    checks = {
        "fresh_process_s_le_0.4": litert["median_s"] <= TARGET_S and litert_webm["median_s"] <= TARGET_S,
        "ratio_ge_10": ratio >= TARGET_RATIO,
        "peak_rss_le_120_mb": max(litert["peak_rss_mb"], litert_webm["peak_rss_mb"]) <= TARGET_RSS_MB,
    }
    print(f"baseline / litert = {ratio}x; targets: {checks}")
    report = {
        "benchmark": "cold_start",
        "how": "fresh `python -c` child per run; parent wall clock from spawn to the child's first "
        "classification; child's ru_maxrss; median after one untimed warm-up run",
        "litert_wav": litert,
        "litert_webm": litert_webm,
        "baseline_wav": baseline,
        "ratio": ratio,
        "targets": {"fresh_process_s": TARGET_S, "ratio": TARGET_RATIO, "peak_rss_mb": TARGET_RSS_MB},
        "met": checks,
    }
    save_results(RESULTS, report)


if __name__ == "__main__":
    main()
