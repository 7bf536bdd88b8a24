"""End-to-end latency on a local stack of its own: upload until `done` is visible over HTTP.

    .venv/bin/python -m bench.e2e_latency [--rate 10] [--seconds 30] [--poll-ms 5]

Open loop at a steady rate (upload i starts at t0 + i/rate, whatever the others do). The
uploads are one signed-in visitor's (`users/{uid}/…`, from the stack's Auth emulator), so
each is followed by its own poller that GETs `/results?name=` with that visitor's ID token
(verified, revocation checked, on every call) every POLL ms until the document says
`done`; latency = that reply − the start of the upload call, so it includes
the upload itself and up to one poll interval. The first WARMUP uploads (the functions'
cold start: model load, lazy imports) are not counted. Also reported: the median of each
stage's own timings from the result documents, and "before the pipeline" (end to end
minus the document's `pipeline_ms`: the upload, fake-gcs's notification, the bridge's
first hop and the HTTP read), to show where the time goes. Writes
bench/results/e2e_latency.json. Targets: p50 ≤ 150 ms and p99 ≤ 500 ms at 10 uploads/s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np
import requests

from bench.load import STAGES, clips, percentiles
from bench.stack_io import RESULTS_DIR, Stack, own_stack
from shared.accounts.sign_in import AuthService, Session

WARMUP = 10
POLL_TIMEOUT_S = 30.0
TARGETS_MS = {"p50": 150.0, "p99": 500.0}
_http = threading.local()


def upload_and_wait(
    stack: Stack, visitor: Session, name: str, clip: int, poll_s: float
) -> tuple[float, dict[str, Any]]:
    """Upload one clip as `visitor`, poll the API until it is finished; (ms from upload start, document)."""
    session = getattr(_http, "session", None) or requests.Session()
    session.headers["Authorization"] = f"Bearer {visitor.id_token}"
    _http.session = session
    _, data, content_type = clips()[clip % len(clips())]
    name = f"users/{visitor.uid}/{name}"
    started = time.perf_counter()
    stack.upload(name, data, content_type)
    deadline = started + POLL_TIMEOUT_S
    while time.perf_counter() < deadline:
        reply = session.get(f"{stack.api_url}/results", params={"name": name}, timeout=10)
        if reply.status_code == 200 and reply.json()["status"] in ("done", "failed"):
            return (time.perf_counter() - started) * 1000, reply.json()
        time.sleep(poll_s)
    return float("nan"), {"name": name, "status": "lost"}


def run_at_rate(
    stack: Stack, visitor: Session, rate: float, count: int, prefix: str, poll_s: float
) -> list[Future]:
    """Start `count` upload+poll tasks at `rate` per second; return their futures."""
    futures: list[Future] = []
    with ThreadPoolExecutor(max_workers=64) as pool:
        t0 = time.monotonic()
        for i in range(count):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(upload_and_wait, stack, visitor, f"{prefix}/{i:05d}", i, poll_s))
    return futures


def report(rate: float, seconds: float, poll_ms: float, results: list[tuple[float, dict[str, Any]]]) -> dict:
    done = [(ms, doc) for ms, doc in results if doc["status"] == "done"]
    e2e = [ms for ms, _ in done]
    stage_medians = {
        stage: round(float(np.median(values)), 2)
        for stage in STAGES
        if (values := [doc["timings"][stage] for _, doc in done if stage in (doc.get("timings") or {})])
    }
    before_pipeline = [
        ms - doc["timings"]["pipeline_ms"] for ms, doc in done if "pipeline_ms" in doc["timings"]
    ]
    e2e_ms = percentiles(e2e)
    return {
        "rate_per_s": rate,
        "seconds": seconds,
        "poll_ms": poll_ms,
        "uploads": len(results),
        "done": len(done),
        "failed": sum(doc["status"] == "failed" for _, doc in results),
        "lost": sum(doc["status"] == "lost" for _, doc in results),
        "end_to_end_ms": e2e_ms,
        "stage_medians_ms": stage_medians,
        "before_pipeline_ms_median": round(float(np.median(before_pipeline)), 1) if before_pipeline else None,
        "targets_ms": TARGETS_MS,
        "targets_met": all(e2e_ms[q] is not None and e2e_ms[q] <= limit for q, limit in TARGETS_MS.items()),
        "cpus": os.cpu_count(),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=10.0, help="uploads per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--poll-ms", type=float, default=5.0)
    args = parser.parse_args(argv)
    run = f"e2e-{int(time.time())}"
    poll_s = args.poll_ms / 1000
    with own_stack("bench-e2e") as stack:
        start_marks_s = {k: round(v, 2) for k, v in stack.state["phases_s"].items()}
        load_before = round(os.getloadavg()[0], 2)
        auth = AuthService(stack.env["FIREBASE_API_KEY"], stack.env["FIREBASE_AUTH_EMULATOR_HOST"])
        visitor = auth.sign_up_anonymously()
        for future in run_at_rate(stack, visitor, 5.0, WARMUP, f"{run}/warmup", poll_s):
            future.result()
        count = int(args.rate * args.seconds)
        futures = run_at_rate(stack, visitor, args.rate, count, f"{run}/steady", poll_s)
        result = report(args.rate, args.seconds, args.poll_ms, [f.result() for f in futures])
    result["load_average_1m_at_start"] = load_before
    result["stack_start_s"] = start_marks_s  # `coughcloud up`: when each part was ready
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "e2e_latency.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
