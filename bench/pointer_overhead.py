"""What the model registry adds to a warm call: the pointer read through its cache, per upload.

    .venv/bin/python -m bench.pointer_overhead [--uploads N] [--calls N]

Three figures, each against a baseline measured in the same run:
1. per call, in-process: `serving.choose_for(key)` (the cached pointer, routing, the chosen
   version's spec) against `feature_spec()` (what preprocess called before the registry),
   and `serving.model_for(choice)` against `load_model(MODEL_URI)` (predict's before);
2. a whole warm preprocess call (download, decode, MFCC, Firestore writes, publish) on the
   real emulators, with a pointer document (champion, canary 50 %, shadow) against the same
   call with the choice fixed as before the registry; the two interleaved, upload by upload;
3. the uncached pointer read (one Firestore get), paid once per MODEL_POINTER_TTL_S.
Starts its own emulators on free ports and stops them by PID. Prints a table and writes
bench/results/pointer_overhead.json.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.clip_cost import save_results
from local_stack.emulators import start_emulators
from shared.config import BUNDLED_MODEL_DIR, settings

RESULTS = Path(__file__).resolve().parent / "results" / "pointer_overhead.json"
LOG_DIR = Path(__file__).resolve().parent.parent / ".local" / "bench-logs"


def per_call_us(work: Callable[[], object], calls: int) -> float:
    """Median over 5 rounds of the mean time of one call, in microseconds."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            work()
        rounds.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(rounds)


def summary_ms(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "p95": round(float(np.percentile(values, 95)), 3),
        "mean": round(statistics.fmean(values), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=150, help="warm preprocess calls per variant")
    parser.add_argument("--calls", type=int, default=20_000, help="calls per round of the in-process figures")
    args = parser.parse_args()

    registry = Path(tempfile.mkdtemp(prefix="pointer-bench-")) / "cough-classifier"
    # Three copies of the shipped model: the pointer names champion, canary and shadow.
    for version in ("1.0.0", "1.0.0-b", "1.0.0-c"):
        shutil.copytree(
            BUNDLED_MODEL_DIR, registry / version, ignore=shutil.ignore_patterns("*.keras", "report")
        )
    emulators = start_emulators("pointer-bench", "pointer-bench-uploads", log_dir=LOG_DIR)
    try:
        os.environ.update(emulators.env())
        os.environ.update({"UPLOAD_BUCKET": "pointer-bench-uploads", "MODEL_URI": str(registry / "1.0.0"),
                           "MODELS_COLLECTION": f"models-{uuid.uuid4().hex[:8]}", "LOG_LEVEL": "ERROR",
                           "FEATURES_TOPIC": "bench-features"})  # fmt: skip
        settings.cache_clear()
        report = measure(args.uploads, args.calls)
    finally:
        emulators.stop()
        shutil.rmtree(registry.parent, ignore_errors=True)
    show(report)
    save_results(RESULTS, report)


def measure(uploads: int, calls: int) -> dict[str, object]:
    from google.cloud import pubsub_v1, storage

    from shared.ml.model import feature_spec, load_model
    from shared.pipeline import preprocessing
    from shared.registry import serving, store
    from shared.registry.pointer import ModelPointer
    from shared.registry.routing import Choice
    from tests.fixtures.audio_files import sample_file

    config = settings()
    publisher = pubsub_v1.PublisherClient()
    publisher.create_topic(name=publisher.topic_path(config.GOOGLE_CLOUD_PROJECT, config.FEATURES_TOPIC))
    bucket = storage.Client(project=config.GOOGLE_CLOUD_PROJECT).create_bucket(config.UPLOAD_BUCKET)
    name = serving.location().registry.name
    stored = ModelPointer(name=name, champion="1.0.0", canary="1.0.0-b", percent=50, shadow="1.0.0-c")
    store.change_pointer(name, "bench", lambda _: stored, "1.0.0", "bench")
    key = uuid.uuid4().hex
    choice = Choice(name, "1.0.0", "champion")
    serving.choose_for(key), serving.model_for(choice)  # warm: the pointer read, the model loaded
    in_process = {
        "choose_for_us": per_call_us(lambda: serving.choose_for(key), calls),
        "feature_spec_us (before the registry)": per_call_us(feature_spec, calls),
        "model_for_us": per_call_us(lambda: serving.model_for(choice), calls),
        "load_model_us (before the registry)": per_call_us(lambda: load_model(config.MODEL_URI), calls),
    }
    read_ms = []
    for _ in range(50):
        started = time.perf_counter()
        store.read_pointer(name)
        read_ms.append((time.perf_counter() - started) * 1000)

    clip = sample_file("wav_pcm16", seconds=2.0)
    before_registry = lambda key: (choice, feature_spec())  # noqa: E731
    real_choose_for = serving.choose_for
    timings: dict[str, list[float]] = {"with_pointer": [], "before_registry": []}
    for i in range(uploads + 10):  # the first 10 of each warm up
        for variant in ("with_pointer", "before_registry") if i % 2 else ("before_registry", "with_pointer"):
            preprocessing.choose_for = real_choose_for if variant == "with_pointer" else before_registry
            blob = bucket.blob(f"bench/{variant}/{i}.wav")
            blob.upload_from_string(clip, content_type="audio/wav")
            started = time.perf_counter()
            upload = (bucket.name, blob.name, blob.generation, len(clip), "audio/wav", uuid.uuid4().hex)
            preprocessing.preprocess_upload(*upload)
            if i >= 10:
                timings[variant].append((time.perf_counter() - started) * 1000)
    preprocessing.choose_for = real_choose_for
    warm = {variant: summary_ms(values) for variant, values in timings.items()}
    ratio = warm["with_pointer"]["median"] / warm["before_registry"]["median"]
    return {
        "in_process_us": {k: round(v, 3) for k, v in in_process.items()},
        "warm_preprocess_ms": warm,
        "warm_preprocess_ratio_median": round(ratio, 4),
        "uploads_per_variant": uploads,
        "pointer_read_uncached_ms": summary_ms(read_ms),
        "pointer_ttl_s": settings().MODEL_POINTER_TTL_S,
    }


def show(report: dict[str, object]) -> None:
    print("in-process, per call (µs):")
    for label, value in report["in_process_us"].items():  # type: ignore[union-attr]
        print(f"  {label:<40} {value:10.3f}")
    print(f"warm preprocess call on the emulators ({report['uploads_per_variant']} uploads each, ms):")
    for variant, figures in report["warm_preprocess_ms"].items():  # type: ignore[union-attr]
        figures_ms = "  ".join(f"{k} {figures[k]:8.3f}" for k in ("median", "p95", "mean"))
        print(f"  {variant:<16} {figures_ms}")
    print(
        f"  ratio (with pointer / before the registry, medians): {report['warm_preprocess_ratio_median']:.4f}"
    )
    read = report["pointer_read_uncached_ms"]
    print(f"uncached pointer read: median {read['median']:.3f} ms, once per {report['pointer_ttl_s']:g} s")  # type: ignore[index]


if __name__ == "__main__":
    main()
