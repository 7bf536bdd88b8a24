"""Per-clip cost, warm: decode + checks + MFCC + inference for 5 s and ~30 s clips in every format.

    .venv/bin/python -m bench.clip_cost [--runs N]

What a warm predict path pays per upload (model loaded, codecs imported): the same
`shared.ml.classify.classify_bytes` the CLI runs, on clips recorded at 48 kHz (browsers'
rate) and encoded with tests/fixtures/audio_files.encode (ffmpeg / libsndfile). Each
figure is the median of N runs after one warm-up run. Prints a table and writes
bench/results/clip_cost.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import soxr

from shared.config import BUNDLED_MODEL_DIR
from shared.ml.classify import classify_bytes
from shared.ml.model import CoughModel, load_model
from tests.fixtures.audio_files import FORMATS, encode
from training.synthetic import RATE, make_clip

RESULTS = Path(__file__).resolve().parent / "results" / "clip_cost.json"
SOURCE_RATE = 48_000
# The long clip stays just under the 30 s limit: AAC and MP3 encoders pad the start.
DURATIONS_S = (5, 29.5)
TARGETS_MS = {("wav_pcm16", 5): 10.0, ("webm_opus", 5): 25.0}
STAGES = ("decode_ms", "features_ms", "inference_ms")


def save_results(path: Path, report: dict[str, object]) -> None:
    """Write a benchmark's JSON with where and when it was measured (shared by the bench scripts)."""
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    report = {
        **report,
        "machine": machine,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


def recording(seconds: float, seed: int = 0) -> np.ndarray:
    """Coughs and other sounds back to back, `seconds` long, at 48 kHz."""
    rng = np.random.default_rng(seed)
    parts, total = [], 0
    while total < seconds * RATE:
        clip = make_clip(("wet", "dry", "not_cough")[len(parts) % 3], rng)
        parts.append(clip)
        total += clip.size
    mono = np.concatenate(parts)[: int(seconds * RATE)] * 0.8
    return soxr.resample(mono, RATE, SOURCE_RATE).astype(np.float32)


def measure(data: bytes, model: CoughModel, runs: int) -> dict[str, float]:
    """Median wall time of classify_bytes over `runs` runs, and the median of each stage."""
    result = classify_bytes(data, model)  # warm-up: codec imports, caches
    if result["status"] != "done":
        raise RuntimeError(f"benchmark clip failed: {result['error']}")
    totals: list[float] = []
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    for _ in range(runs):
        started = time.perf_counter()
        result = classify_bytes(data, model)
        totals.append((time.perf_counter() - started) * 1000)
        for stage in STAGES:
            stages[stage].append(result["timings"][stage])
    return {
        "median_ms": round(statistics.median(totals), 3),
        "min_ms": round(min(totals), 3),
        **{stage.replace("_ms", "_median_ms"): round(statistics.median(v), 3) for stage, v in stages.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="timed runs per clip (default: 25)")
    args = parser.parse_args()
    model = load_model(str(BUNDLED_MODEL_DIR))
    rows = []
    print(f"{'format':<20} {'s':>4} {'bytes':>9} {'median ms':>10} {'decode':>8} {'mfcc':>7} {'model':>7}")
    for seconds in DURATIONS_S:
        samples = recording(seconds)
        for fmt in FORMATS:
            data = encode(samples, SOURCE_RATE, fmt)
            row = {"format": fmt, "duration_s": seconds, "bytes": len(data)}
            row.update(measure(data, model, args.runs))
            target = TARGETS_MS.get((fmt, seconds))
            verdict = ""
            if target is not None:
                row.update(target_ms=target, meets_target=row["median_ms"] <= target)
                verdict = f"   target ≤ {target:g} ms: {'met' if row['meets_target'] else 'MISSED'}"
            rows.append(row)
            print(
                f"{fmt:<20} {seconds:>4g} {len(data):>9} {row['median_ms']:>10.2f}"
                f" {row['decode_median_ms']:>8.2f} {row['features_median_ms']:>7.2f}"
                f" {row['inference_median_ms']:>7.2f}{verdict}"
            )
    report = {
        "benchmark": "clip_cost",
        "how": "warm classify_bytes (size check, decode+resample, checks, MFCC, LiteRT), median of runs",
        "runs": args.runs,
        "source_rate": SOURCE_RATE,
        "model": model.info,
        "rows": rows,
    }
    save_results(RESULTS, report)


if __name__ == "__main__":
    main()
