"""Run every benchmark in turn (`make bench`): each prints its figures and writes bench/results/*.json.

    .venv/bin/python bench/run_all.py [NAME ...]

Each entry of BENCHMARKS is a module in bench/ run as `python -m bench.<name>` from the
repository root, so it can import shared/, training/ and tests/fixtures/. Add yours to
the list. A failing benchmark is reported and the rest still run; the exit status is 1
if any failed.
"""

from __future__ import annotations

import subprocess
import sys
import time

from shared.config import REPO_ROOT

# name -> what it needs; offline ones first, then those that need the local stack running.
BENCHMARKS: dict[str, str] = {
    "clip_cost": "offline",
    "cold_start": "offline",
    "function_cold_start": "starts the emulators of its own",
    "first_upload": "starts the emulators of its own",
    "model_versions": "offline",
    "pointer_overhead": "starts emulators of its own",
    "hostile": "starts a local stack of its own",
    "faults": "starts a local stack of its own",
    "e2e_latency": "starts a local stack of its own",
    "sustained_rate": "starts a local stack of its own",  # before load: it sets load's steady rate
    "load": "starts a local stack of its own",
}


def main(argv: list[str]) -> int:
    chosen = argv or list(BENCHMARKS)
    unknown = [name for name in chosen if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {list(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in chosen:
        print(f"\n=== bench.{name} ({BENCHMARKS[name]}) ===", flush=True)
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=REPO_ROOT)
        print(f"=== bench.{name}: exit {code} in {time.monotonic() - started:.0f} s ===", flush=True)
        if code != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
