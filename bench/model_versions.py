"""Model versions side by side: cold start (load + first prediction) and per-clip cost of each.

    .venv/bin/python -m bench.model_versions [--runs N] [--versions 1.0.0 1.1.0]

For each version folder under models/cough-classifier/:

- cold start: a fresh Python process (as a function instance starts) imports the serving
  modules, loads the model folder and classifies examples/dry_cough.wav; the parent's wall
  clock from spawn to the child's answer, split into imports / model load / first
  classification, and the child's peak RSS. Median of N runs after one untimed warm-up run.
- per-clip cost: in this process, the model loaded once, classify_bytes on each example
  clip and on a 5 s and a 30 s clip (decode + checks + MFCC + LiteRT); median of N calls,
  and the LiteRT inference alone (`CoughModel.predict` on precomputed features).

Besides speed, the share of the held-out real non-cough recordings (training/sources.py's
held-out packages, apt-installed when missing) each version calls `dry` or `wet`, so the
versions are compared on the same clips.

The versions alternate run by run, so a busy machine slows both alike. Prints the figures
and writes bench/results/model_versions.json.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.clip_cost import save_results
from bench.cold_start import LITERT_CHILD, run_child
from shared.config import REPO_ROOT
from shared.ml.classify import classify_bytes
from shared.ml.features import feature_matrix
from shared.ml.model import load_model
from training.evaluate import called_cough_rate
from training.real_sounds import load_source
from training.sources import HELD_OUT, SOURCES, ensure_installed

RESULTS = Path(__file__).resolve().parent / "results" / "model_versions.json"
MODELS = REPO_ROOT / "models" / "cough-classifier"
EXAMPLES = REPO_ROOT / "examples"
CLIP = EXAMPLES / "dry_cough.wav"


def _wav(seconds: float) -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    sf.write(
        buffer, (rng.standard_normal(int(16_000 * seconds)) * 0.1).astype(np.float32), 16_000, format="WAV"
    )
    return buffer.getvalue()


def cold_start(folders: dict[str, Path], runs: int) -> dict[str, dict]:
    for folder in folders.values():
        run_child(LITERT_CHILD, CLIP, folder)  # untimed: OS file cache, .pyc files
    samples: dict[str, list[dict]] = {version: [] for version in folders}
    for _ in range(runs):
        for version, folder in folders.items():
            samples[version].append(run_child(LITERT_CHILD, CLIP, folder))
    return {
        version: {
            "runs": runs,
            **{
                f"{key}_median": round(statistics.median(float(s[key]) for s in rows), 4)
                for key in ("seconds", "imports_s", "load_s", "classify_s")
            },
            "peak_rss_mb": round(max(float(s["rss_mb"]) for s in rows), 1),
            "label": rows[0]["label"],
        }
        for version, rows in samples.items()
    }


def clip_cost(folders: dict[str, Path], runs: int) -> dict[str, dict]:
    clips = {
        path.name: path.read_bytes()
        for path in sorted(EXAMPLES.glob("*"))
        if path.suffix in (".wav", ".webm")
    }
    clips |= {"noise_5s.wav": _wav(5.0), "noise_30s.wav": _wav(30.0)}
    models = {version: load_model(str(folder)) for version, folder in folders.items()}
    results: dict[str, dict] = {version: {} for version in folders}
    for name, data in clips.items():
        timings: dict[str, list[float]] = {version: [] for version in folders}
        labels = {}
        for _ in range(runs):
            for version, model in models.items():
                started = time.perf_counter()
                labels[version] = classify_bytes(data, model)["label"]
                timings[version].append((time.perf_counter() - started) * 1000)
        for version in models:
            results[version][name] = {
                "classify_ms_median": round(statistics.median(timings[version]), 3),
                "label": labels[version],
            }
    features = feature_matrix(
        sf.read(io.BytesIO(clips["noise_5s.wav"]), dtype="float32")[0], models[next(iter(models))].spec
    )
    for version, model in models.items():
        started = time.perf_counter()
        for _ in range(runs * 10):
            model.predict(features, model.spec)
        results[version]["litert_predict_5s_features_ms"] = round(
            (time.perf_counter() - started) * 1000 / (runs * 10), 4
        )
    return results


def held_out_real(folders: dict[str, Path]) -> dict[str, dict]:
    """Each version's labels on the held-out real non-cough clips (the same clips training measures)."""
    sources = tuple(source for source in SOURCES if source.use == HELD_OUT)
    ensure_installed(sources)
    models = {version: load_model(str(folder)) for version, folder in folders.items()}
    clips = [clip for source in sources for clip in load_source(source, 16_000, seed=0)]
    features = [feature_matrix(clip.samples, next(iter(models.values())).spec) for clip in clips]
    results = {}
    for version, model in models.items():
        labels = [model.predict(f, model.spec).label for f in features]
        results[version] = {
            "clips": len(labels),
            "called_cough_rate": round(called_cough_rate(labels), 4),
            "inconclusive_rate": round(labels.count("inconclusive") / len(labels), 4),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="timed runs per version (default: 11)")
    parser.add_argument(
        "--versions", nargs="+", default=sorted(p.name for p in MODELS.iterdir() if p.is_dir())
    )
    args = parser.parse_args()
    folders = {version: MODELS / version for version in args.versions}
    cold = cold_start(folders, args.runs)
    cost = clip_cost(folders, args.runs)
    real = held_out_real(folders)
    for version in folders:
        c = cold[version]
        print(
            f"{version}: cold start {c['seconds_median']:.3f} s (imports {c['imports_s_median']:.3f}, "
            f"load {c['load_s_median']:.4f}, first classification {c['classify_s_median']:.4f}), "
            f"peak RSS {c['peak_rss_mb']:.0f} MB"
        )
        per_clip = ", ".join(
            f"{name} {row['classify_ms_median']:.2f} ms ({row['label']})"
            for name, row in cost[version].items()
            if isinstance(row, dict)
        )
        print(
            f"{'':7}held-out real non-coughs called a cough: {real[version]['called_cough_rate']:.1%} "
            f"of {real[version]['clips']} (inconclusive {real[version]['inconclusive_rate']:.1%})"
        )
        print(
            f"{'':7}per clip: {per_clip}; LiteRT alone on 5 s of features "
            f"{cost[version]['litert_predict_5s_features_ms']:.3f} ms"
        )
    save_results(
        RESULTS,
        {
            "benchmark": "model_versions",
            "how": __doc__.split("\n\n", 2)[2].split("\n\nThe versions")[0].replace("\n", " "),
            "versions": {
                version: {
                    "folder": str(folder.relative_to(REPO_ROOT)),
                    "cold_start": cold[version],
                    "per_clip": cost[version],
                    "held_out_real": real[version],
                }
                for version, folder in folders.items()
            },
        },
    )


if __name__ == "__main__":
    main()
