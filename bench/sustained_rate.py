"""The highest upload rate the local stack holds for 60 s with nothing lost.

    .venv/bin/python -m bench.sustained_rate [--rates 30,40,50,60,70,80,100] [--seconds 60]

On one stack of its own, rates are tried in increasing order, each for SECONDS, with
bench/load.py's open-loop uploader (8 threads, the official Storage client, 1–3 s wav
and webm clips). A rate is *held* when the uploader kept it (achieved ≥ 95 % of it),
every upload ended `done` (none failed, none lost, one `cough-results` message each) and
the backlog cleared within HELD_DRAIN_S of the last upload. Stops after the first rate
not held. Writes bench/results/sustained_rate.json: every step, and `highest_rate_held`
(bench/load.py's default steady rate). Target: ≥ 50 uploads/s held on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.load import HELD_DRAIN_S, QUIET_S, analyse, steady
from bench.stack_io import RESULTS_DIR, Stack, TopicCounter, add_env_argument, results_file, target_stack
from shared.config import settings

TARGET_RATE = 50.0
WAIT_S = 300.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (empty if the process is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def stack_processes(stack: Stack) -> dict[int, str]:
    """PID → part name for every process of the stack, the functions' gunicorn workers included."""
    parents = {
        int(p.name): int(f[1])
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and (f := _stat(int(p.name)))
    }
    parts = {c["pid"]: c["name"] for c in stack.state.get("children", [])}  # none for a cloud project
    for pid, parent in parents.items():
        if parent in parts:
            parts[pid] = parts[parent]
    return parts


def cpu_seconds(parts: dict[int, str]) -> Counter[str]:
    """CPU time (user + system) used so far by each part, and by this load generator."""
    used: Counter[str] = Counter()
    for pid, part in parts.items():
        if fields := _stat(pid):
            used[part] += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    used["load generator"] = time.process_time()
    return used


def step(stack: Stack, results: TopicCounter, rate: float, seconds: float, prefix: str) -> dict[str, Any]:
    """Hold `rate` for `seconds`, wait for every result, and say whether the rate was held."""
    load_before = os.getloadavg()[0]
    parts = stack_processes(stack)
    cpu_before = cpu_seconds(parts)
    uploads, achieved = steady(stack, rate, seconds, prefix)
    t = time.monotonic()
    finals = stack.wait_final(uploads, WAIT_S)
    drain_s = time.monotonic() - t
    cpu_used = cpu_seconds(parts) - cpu_before
    time.sleep(QUIET_S)  # late duplicates would show up here
    summary, _ = analyse(uploads, finals, results.counts)
    held = (
        achieved >= 0.95 * rate
        and summary["done"] == len(uploads)
        and summary["duplicate_results"] == 0
        and summary["missing_results"] == 0
        and drain_s <= HELD_DRAIN_S
    )
    return {
        "rate": rate,
        "achieved_rate": round(achieved, 2),
        "held": held,
        "drain_seconds_after_last_upload": round(drain_s, 2),
        "load_average_1m_before": round(load_before, 2),
        # Where the two cores went: CPU ms per upload, per part of the stack.
        "cpu_ms_per_upload": {part: round(s * 1000 / len(uploads), 1) for part, s in cpu_used.most_common()},
        **summary,
    }


def describe(s: dict[str, Any], seconds: float) -> str:
    e2e = s["end_to_end_ms"]
    return (
        f"{s['rate']:g}/s for {seconds:g} s: achieved {s['achieved_rate']}/s, "
        f"done {s['done']}/{s['uploads']}, lost {s['lost']}, "
        f"drained {s['drain_seconds_after_last_upload']} s after the last upload, "
        f"end to end p50 {e2e['p50']} ms p99 {e2e['p99']} ms → {'held' if s['held'] else 'NOT held'}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="30,40,50,60,70,80,100", help="uploads per second, increasing")
    parser.add_argument("--seconds", type=float, default=60.0)
    add_env_argument(parser)
    args = parser.parse_args(argv)
    rates = [float(r) for r in args.rates.split(",")]
    run = f"sustained-{int(time.time())}"
    steps: list[dict[str, Any]] = []
    with target_stack("bench-sustained", args.env) as stack:
        results = TopicCounter(stack, settings().RESULTS_TOPIC, "sustained-results")
        for rate in rates:
            steps.append(step(stack, results, rate, args.seconds, f"{run}/{rate:g}"))
            print(describe(steps[-1], args.seconds), flush=True)
            if not steps[-1]["held"]:
                break
        results.close()
    held = [s["rate"] for s in steps if s["held"]]
    result = {
        "seconds_per_step": args.seconds,
        "highest_rate_held": max(held) if held else None,
        "target_rate": TARGET_RATE,
        "target_met": bool(held) and max(held) >= TARGET_RATE,
        "cpus": os.cpu_count(),
        "steps": steps,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    results_file("sustained_rate", args.env).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "steps"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
