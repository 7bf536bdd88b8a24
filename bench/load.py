"""Load on the running local stack: a 1000-upload burst, then a steady rate for 60 s.

    .venv/bin/python -m bench.load [--burst 1000] [--rate 20] [--seconds 60]   # starts its own stack

Uploads go through the official Storage client (8 threads). Every upload must end
`done` or `failed` (lost = 0), with exactly one `cough-results` message per `done`. A
steady rate counts as held when the backlog clears within 5 s of the last upload.
Latency per stage comes from each result document's `timings` (download, decode,
features, publish, preprocess, queue, inference, predict; pipeline = first delivery to
done); end to end is the document's `updated_at` at `done` minus the moment the upload
call returned. Writes bench/results/load.json and bench/results/load_latency.png
(histograms). The steady rate defaults to the highest rate bench/sustained_rate.py
found, when its result file exists.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from bench.stack_io import (
    RESULTS_DIR,
    Stack,
    TopicCounter,
    Uploaded,
    add_env_argument,
    results_file,
    target_stack,
)
from shared.config import settings
from tests.fixtures.audio_files import sample_file

THREADS = 8
STAGES = (
    "download_ms",
    "decode_ms",
    "features_ms",
    "publish_ms",
    "preprocess_ms",
    "queue_ms",
    "inference_ms",
    "predict_ms",
    "pipeline_ms",
)
DEFAULT_RATE = 20.0
QUIET_S = 2.0  # after the last result: late duplicates would arrive in this window
HELD_DRAIN_S = 5.0  # a rate is held if the backlog clears this soon after the last upload


@functools.cache
def clips() -> list[tuple[str, bytes, str]]:
    """A few different valid recordings (1–3 s, wav and webm), cycled through the run."""
    return [
        ("wav", sample_file("wav_pcm16", 1.0, 16_000, seed=1), "audio/wav"),
        ("webm", sample_file("webm_opus", 2.0, seed=2), "audio/webm"),
        ("wav", sample_file("wav_pcm16", 3.0, 44_100, seed=3), "audio/wav"),
    ]


def _submit(pool: ThreadPoolExecutor, stack: Stack, prefix: str, i: int) -> Future[Uploaded]:
    ext, data, content_type = clips()[i % len(clips())]
    return pool.submit(stack.upload, f"{prefix}/{i:05d}.{ext}", data, content_type)


def burst(stack: Stack, count: int, prefix: str) -> tuple[list[Uploaded], float]:
    """`count` uploads as fast as THREADS uploaders go; returns them and the upload wall time."""
    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [_submit(pool, stack, prefix, i) for i in range(count)]
        uploads = [f.result() for f in futures]
    return uploads, time.monotonic() - started


def steady(stack: Stack, rate: float, seconds: float, prefix: str) -> tuple[list[Uploaded], float]:
    """Uploads started at `rate` per second for `seconds`; returns them and the achieved rate."""
    total = int(rate * seconds)
    futures: list[Future[Uploaded]] = []
    t0 = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        for i in range(total):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(_submit(pool, stack, prefix, i))
        uploads = [f.result() for f in futures]
    return uploads, total / (time.monotonic() - t0)


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    a = np.asarray(values)
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {
        "n": len(values),
        "p50": round(p50, 1),
        "p95": round(p95, 1),
        "p99": round(p99, 1),
        "max": round(a.max(), 1),
    }


def analyse(
    uploads: list[Uploaded], finals: dict[str, dict[str, Any]], published: Counter[str]
) -> tuple[dict[str, Any], list[float]]:
    """Counts, per-stage and end-to-end percentiles (ms); also the end-to-end values for plotting.
    `published` counts the `cough-results` messages per key: exactly one per `done` upload."""
    done = [finals[u.key] for u in uploads if finals.get(u.key, {}).get("status") == "done"]
    failed = [finals[u.key] for u in uploads if finals.get(u.key, {}).get("status") == "failed"]
    e2e = [
        (finals[u.key]["updated_at"].timestamp() - u.finished) * 1000
        for u in uploads
        if finals.get(u.key, {}).get("status") == "done"
    ]
    stages = {
        s: percentiles([d["timings"][s] for d in done if s in (d.get("timings") or {})]) for s in STAGES
    }
    report = {
        "uploads": len(uploads),
        "done": len(done),
        "failed": len(failed),
        "failed_codes": dict(Counter(f["error"]["code"] for f in failed)),
        "lost": len(uploads) - len(done) - len(failed),
        "attempts_over_1": sum(1 for d in done + failed if int(d.get("attempts") or 1) > 1),
        "duplicate_results": sum(1 for u in uploads if published[u.key] > 1),
        "missing_results": sum(
            1 for u in uploads if finals.get(u.key, {}).get("status") == "done" and not published[u.key]
        ),
        "upload_ms": percentiles([(u.finished - u.started) * 1000 for u in uploads]),
        "end_to_end_ms": percentiles(e2e),
        "stages_ms": stages,
    }
    return report, e2e


def plot(series: dict[str, list[float]], path: Any) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(series), figsize=(6 * len(series), 4), squeeze=False)
    for ax, (title, values) in zip(axes[0], series.items(), strict=True):
        if values:
            ax.hist(values, bins=60, color="#3b6ea5")
            for q, style in ((50, "-"), (95, "--"), (99, ":")):
                ax.axvline(np.percentile(values, q), color="k", linestyle=style, label=f"p{q}")
            ax.legend()
        ax.set_title(title)
        ax.set_xlabel("upload returned → done (ms)")
        ax.set_ylabel("uploads")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def default_rate() -> float:
    """The highest rate bench/sustained_rate.py held, if it has run; else DEFAULT_RATE."""
    path = RESULTS_DIR / "sustained_rate.json"
    if path.exists():
        rate = json.loads(path.read_text()).get("highest_rate_held")
        if rate:
            return float(rate)
    return DEFAULT_RATE


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=None, help="steady uploads per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--wait", type=float, default=600.0, help="seconds to wait for results")
    add_env_argument(parser)
    args = parser.parse_args(argv)
    run = f"load-{int(time.time())}"
    report: dict[str, Any] = {}
    series: dict[str, list[float]] = {}
    with target_stack("bench-load", args.env) as stack:
        results = TopicCounter(stack, settings().RESULTS_TOPIC, "load-results")
        uploads, upload_s = burst(stack, args.burst, f"{run}/burst")
        t = time.monotonic()
        finals = stack.wait_final(uploads, args.wait)
        drain_s = time.monotonic() - t
        time.sleep(QUIET_S)
        report["burst"], series[f"burst of {args.burst}"] = analyse(uploads, finals, results.counts)
        report["burst"].update(
            upload_seconds=round(upload_s, 2), drain_seconds_after_uploads=round(drain_s, 2)
        )
        print("burst", json.dumps(report["burst"], indent=1))

        rate = args.rate or default_rate()
        uploads, achieved = steady(stack, rate, args.seconds, f"{run}/steady")
        t = time.monotonic()
        finals = stack.wait_final(uploads, args.wait)
        drain_s = time.monotonic() - t
        time.sleep(QUIET_S)
        report["steady"], series[f"steady {rate:g}/s for {args.seconds:g} s"] = analyse(
            uploads, finals, results.counts
        )
        report["steady"].update(
            target_rate=rate,
            achieved_upload_rate=round(achieved, 2),
            seconds=args.seconds,
            drain_seconds_after_uploads=round(drain_s, 2),
            held=report["steady"]["lost"] == 0 and drain_s < HELD_DRAIN_S,
        )
        print("steady", json.dumps(report["steady"], indent=1))
        results.close()

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = results_file("load", args.env)
    path.write_text(json.dumps(report, indent=1))
    chart = path.with_name(path.stem.replace("load", "load_latency", 1) + ".png")
    plot(series, chart)
    print(f"wrote {path} and {chart}")
    return 0 if report["burst"]["lost"] == 0 and report["steady"]["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
