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

Besides speed, each version's figures on the held-out data as `python -m training.evaluate`
recorded them once per release (read from metadata.json, never recomputed): the share of the
held-out cough recipes' clips called a cough and, of those, dry/wet right; the share of the
held-out real non-cough recordings called a cough. The same clips for every version.

The versions alternate run by run, so a busy machine slows both alike. Prints the figures
and writes bench/results/model_versions.json.
"""

from __future__ import annotations

import argparse
import io
import json
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
from shared.ml.model import METADATA_FILE, load_model
from training.evaluate import HELD_OUT_KEY

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


def held_out(folders: dict[str, Path]) -> dict[str, dict]:
    """Each version's once-per-release figures on the held-out data, as training/evaluate.py wrote them.

    Read, not recomputed: a benchmark run must not be another look at the held-out coughs.
    """
    results = {}
    for version, folder in folders.items():
        record = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8")).get("metrics", {})
        record = record.get(HELD_OUT_KEY)
        if record is None:
            raise SystemExit(
                f"{folder}: not evaluated on the held-out data yet: python -m training.evaluate {folder}"
            )
        coughs, real = record["coughs"], record["real"]
        results[version] = {
            "cough_clips": coughs["clips"],
            "cough_called_cough_rate": coughs["called_cough_rate"],
            "cough_dry_wet_right_of_called": coughs["dry_wet_right_of_called"],
            "cough_inconclusive_rate": coughs["inconclusive_rate"],
            "real_clips": real["clips"],
            "real_called_cough_rate": real["called_cough_rate"],
            "real_inconclusive_rate": real["inconclusive_rate"],
            "looks": record["looks"],
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
    real = held_out(folders)
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
        h = real[version]
        print(
            f"{'':7}held-out coughs called a cough: {h['cough_called_cough_rate']:.1%} "
            f"of {h['cough_clips']}, dry/wet right on {h['cough_dry_wet_right_of_called']:.1%} of those "
            f"(inconclusive {h['cough_inconclusive_rate']:.1%}); held-out real non-coughs called a "
            f"cough: {h['real_called_cough_rate']:.1%} of {h['real_clips']} "
            f"(inconclusive {h['real_inconclusive_rate']:.1%})"
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
                    "held_out": real[version],
                }
                for version, folder in folders.items()
            },
        },
    )


if __name__ == "__main__":
    main()
