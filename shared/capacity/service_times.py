"""What one request costs each function, from the benchmarks' JSON in bench/results/.

Measured on the local stack (`bench/sustained_rate.py`, `bench/e2e_latency.py`,
`bench/load.py`, `bench/function_cold_start.py`): the CPU each upload costs preprocess and
predict, their handling time, its spread, and a new instance's time to its first answer.
The emulators answer in about a millisecond, Google's APIs in more, so each Google call a
request makes adds limits.ASSUMPTIONS["cloud_call_s"]. results_api has no per-request
benchmark: its costs are assumptions (limits.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from shared.capacity.limits import assumption

RESULTS_DIR = Path(__file__).resolve().parents[2] / "bench" / "results"
# Google calls per request, from the code: preprocess reads the object, claims the result
# (a read and a create), records features_ready and features_published, publishes the
# features; predict reads the result, creates the finished marker, updates the result and
# publishes it; POST /uploads signs a URL (its own call, sign_blob_s); a poll reads the result.
GOOGLE_CALLS = {"preprocess": 6, "predict": 4, "upload_url": 0, "poll": 1}
Z99 = 2.326  # the standard normal's 99th percentile


@dataclass(frozen=True)
class ServiceTime:
    """One request's cost on an instance: Python CPU at one full core, and time waiting on I/O."""

    cpu_s: float
    io_s: float
    spread: float  # lognormal sigma of the handling time

    def seconds(self, vcpu: float) -> float:
        """Median handling time at `vcpu`: CPU slows below one core (and gains nothing above it)."""
        return self.cpu_s / min(vcpu, assumption("gil_cores")) + self.io_s

    def quantile(self, vcpu: float, q: float) -> float:
        z = {0.5: 0.0, 0.99: Z99}[q]
        return self.seconds(vcpu) * math.exp(self.spread * z)


@dataclass(frozen=True)
class Measured:
    service: dict[str, ServiceTime]  # preprocess, predict, upload_url, poll
    cold_start_cpu_s: dict[str, float]  # CPU of a new instance until its first answer, one core
    cold_start_wait_s: dict[str, float]  # the rest of that time (imports reading files, network)
    sources: tuple[str, ...]

    def cold_start_s(self, function: str, vcpu: float) -> float:
        cpu = self.cold_start_cpu_s[function] / min(vcpu, assumption("gil_cores"))
        return assumption("platform_start_s") + cpu + self.cold_start_wait_s[function]


def _load(name: str, results_dir: Path) -> dict:
    path = results_dir / name
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"{path}: {error} (run the benchmark that writes it, see bench/)") from None


def read(results_dir: Path = RESULTS_DIR) -> Measured:
    sustained = _load("sustained_rate.json", results_dir)
    quiet = _load("e2e_latency.json", results_dir)
    load = _load("load.json", results_dir)
    cold = _load("function_cold_start.json", results_dir)

    held = [step for step in sustained["steps"] if step.get("held")] or sustained["steps"]
    cpu_ms = held[-1]["cpu_ms_per_upload"]
    wall_ms = quiet["stage_medians_ms"]
    stage = load["steady"]["stages_ms"]["preprocess_ms"]
    spread = math.log(stage["p99"] / stage["p50"]) / Z99
    call = assumption("cloud_call_s")
    service = {}
    for name in ("preprocess", "predict"):
        cpu = cpu_ms[name] / 1000
        local_io = max(0.0, wall_ms[f"{name}_ms"] / 1000 - cpu)
        service[name] = ServiceTime(cpu, local_io + GOOGLE_CALLS[name] * call, spread)
    api_cpu, auth = assumption("api_cpu_s"), assumption("auth_lookup_s")
    poll_auth = auth * assumption("polls_check_revocation")
    service["upload_url"] = ServiceTime(
        api_cpu, auth + assumption("sign_blob_s") + GOOGLE_CALLS["upload_url"] * call, spread
    )
    service["poll"] = ServiceTime(api_cpu, poll_auth + GOOGLE_CALLS["poll"] * call, spread)

    firsts = cold["states"]["bytecode"]
    cpu_s = {
        name: firsts[name]["this"]["cpu_s"]["median"] for name in ("preprocess", "predict", "results_api")
    }
    first = {name: firsts[name]["this"]["first_answer_s"]["median"] for name in cpu_s}
    wait_s = {name: max(0.0, first[name] - cpu_s[name]) for name in cpu_s}
    sources = tuple(
        f"bench/results/{name}"
        for name in ("sustained_rate.json", "e2e_latency.json", "load.json", "function_cold_start.json")
    )
    return Measured(service, cpu_s, wait_s, sources)
