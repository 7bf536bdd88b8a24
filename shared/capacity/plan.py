"""The capacity plan: a simulation run read as per-stage figures, what bites first, and the cost."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.capacity.deployment import TF_DIR, Deployment, cost_script, resources, sequential_index_ranges
from shared.capacity.limits import LIMITS, Limit
from shared.capacity.service_times import Measured, read
from shared.capacity.simulation import Outcome, Stage, simulate

MONTH_S = 730 * 3600


@dataclass(frozen=True)
class Pressure:
    """How close a rate comes to one limit: demand / limit (>= 1: it bites)."""

    limit: str
    demand: float
    allowed: float
    unit: str
    source: str
    kind: str = "hard"  # hard: requests fail past it; guidance: latency and errors rise; quota: ask first
    rejected: float = 0.0  # requests the simulation saw refused at this limit (a burst bites below 100%)

    @property
    def ratio(self) -> float:
        return self.demand / self.allowed if self.allowed else math.inf


def pressures(outcome: Outcome, deployment: Deployment) -> list[Pressure]:
    """Every limit the rate presses on, most pressed first."""
    rate = outcome.rate
    writes = cost_script().FIRESTORE_WRITES_PER_UPLOAD
    found = []
    for name, stage in outcome.stages.items():
        need = _instances_needed(stage, rate, outcome)
        found.append(
            Pressure(
                f"{name} max instances (Terraform: function_sizing.{name}.max_instances)",
                need,
                stage.sizing.max_instances,
                "instances",
                "infra/terraform/functions.tf",
                rejected=stage.rejected,
            )
        )
    # Max instances above Cloud Run's default need the project's quota raised before deploying.
    default = LIMITS["run_default_max_instances"]
    busiest = max(outcome.stages.values(), key=lambda stage: stage.peak_instances)
    found.append(
        Pressure(
            f"{default.what}: {busiest.name} started {busiest.peak_instances}",
            busiest.peak_instances,
            default.value,
            default.unit,
            default.source,
            kind="quota",
        )
    )
    refused = sum(n for reason, n in outcome.failed_by.items() if reason.startswith("IAM signBlob"))
    found.append(dataclasses.replace(_documented("iam_sign_blob", rate * 60), rejected=refused))
    found.append(_documented("gcs_initial_writes", rate))
    ranges = sequential_index_ranges(deployment)
    if ranges < math.inf:
        sequential = _documented("firestore_sequential_index", rate * writes)
        found.append(
            dataclasses.replace(
                sequential,
                limit=f"{sequential.limit} ({ranges:g} index ranges)",
                allowed=sequential.allowed * ranges,
            )
        )
    reads = rate * (cost_script().FIRESTORE_READS_PER_UPLOAD + outcome.polls / max(outcome.uploads, 1))
    if outcome.burst_s is not None:
        found.append(_documented("firestore_500_50_5", rate * writes + reads))
    return sorted(found, key=lambda p: p.ratio, reverse=True)


def _documented(name: str, demand: float) -> Pressure:
    entry: Limit = LIMITS[name]
    kind = "hard" if entry.hard else "guidance"
    return Pressure(entry.what, demand, entry.value, entry.unit, entry.source, kind)


def _instances_needed(stage: Stage, rate: float, outcome: Outcome) -> float:
    """Instances the rate keeps busy at the stage's concurrency when nothing queues (the demand)."""
    vcpu = stage.sizing.vcpu
    if stage.name == "results_api":
        busy = rate * sum(n * stage.services[kind].seconds(vcpu) for kind, n in outcome.api_calls.items())
    else:
        busy = rate * next(iter(stage.services.values())).seconds(vcpu)
    return busy / stage.slots


def cost(outcome: Outcome, deployment: Deployment) -> dict[str, float]:
    """USD per upload: the functions as simulated (instance time, requests) and what surrounds them."""
    c = cost_script()
    per_upload = 1 / max(outcome.uploads, 1)
    functions = 0.0
    for stage in outcome.stages.values():
        s = stage.sizing
        instance_s = s.vcpu * c.PRICE_VCPU_S + s.memory_gib * c.PRICE_GIB_S
        functions += (stage.billed_instance_s * instance_s + stage.requests * c.PRICE_REQUEST) * per_upload
    polls = outcome.polls * per_upload
    logged_api_calls = 1 + (0 if poll_logs_excluded(deployment) else polls)
    around = (
        c.FIRESTORE_WRITES_PER_UPLOAD * c.PRICE_FIRESTORE_WRITE
        + (c.FIRESTORE_READS_PER_UPLOAD + polls) * c.PRICE_FIRESTORE_READ
        + c.PRICE_STORAGE_CLASS_A
        + c.PRICE_STORAGE_CLASS_B
        + c.pubsub_cost(features_encoding())
        + c.logging_cost(logged_api_calls)
    )
    return {"functions": functions, "around": around, "total": functions + around, "polls_per_upload": polls}


def poll_logs_excluded(deployment: Deployment) -> bool:
    """Whether monitoring.tf excludes successful GET /results request logs from ingestion."""
    return "poll_request_logs" in resources("google_logging_project_exclusion", deployment.tf_dir)


def features_encoding() -> str:
    """How shared/pipeline/messages.py encodes the features matrix."""
    from shared.pipeline import messages

    return "binary" if messages.FEATURES_SCHEMA.endswith("v2") else "json-base64"


def _seconds(value: float) -> float:
    return round(value, 3)


def plan(
    rate: float,
    burst_s: float | None = None,
    tfvars: Path | None = None,
    measured: Measured | None = None,
    tf_dir: Path = TF_DIR,
) -> dict[str, Any]:
    """The plan at `rate` uploads/s (steady, or a burst of `burst_s` s from idle) for infra/terraform."""
    deployment = Deployment.read(tfvars, tf_dir)
    outcome = simulate(deployment, measured or read(), rate, burst_s)
    return summarize(outcome, deployment)


def summarize(outcome: Outcome, deployment: Deployment) -> dict[str, Any]:
    ranked = pressures(outcome, deployment)
    # What bites first: a hard limit that refused requests, else the most pressed hard limit.
    hard = sorted((p for p in ranked if p.kind == "hard"), key=lambda p: (p.rejected > 0, p.ratio))[::-1]
    top = hard[0] if hard else ranked[0]
    money = cost(outcome, deployment)
    stages = {
        name: {
            "cpu": stage.sizing.cpu,
            "concurrency": stage.sizing.concurrency,
            "max_instances": stage.sizing.max_instances,
            "instances_needed": math.ceil(_instances_needed(stage, outcome.rate, outcome) - 1e-9),
            "peak_instances": stage.peak_instances,
            "cold_starts": stage.instances_started,
            "requests": round(stage.requests),
            "rejected_429": round(stage.rejected),
            "p50_s": _seconds(stage.latency.quantile(0.5)),
            "p99_s": _seconds(stage.latency.quantile(0.99)),
        }
        for name, stage in outcome.stages.items()
    }
    return {
        "rate_per_s": outcome.rate,
        "mode": "steady" if outcome.burst_s is None else f"burst of {outcome.burst_s:g} s from idle",
        "uploads": round(outcome.uploads),
        "done": round(outcome.done),
        "failed_uploads": round(outcome.failed),
        "failed_by": {reason: round(n) for reason, n in outcome.failed_by.items() if round(n)},
        "p50_s": _seconds(outcome.end_to_end.quantile(0.5)),
        "p99_s": _seconds(outcome.end_to_end.quantile(0.99)),
        "firestore_wait_p99_s": _seconds(outcome.firestore_delay.quantile(0.99)),
        "bottleneck": _pressure_json(top),
        "pressures": [_pressure_json(p) for p in ranked],
        "stages": stages,
        "polls_per_upload": round(money["polls_per_upload"], 2),
        "cost_per_million_usd": round(money["total"] * 1e6, 2),
        "cost_functions_per_million_usd": round(money["functions"] * 1e6, 2),
        "cost_per_month_usd": round(money["total"] * outcome.rate * MONTH_S, 2),
        "seconds_simulated": round(outcome.seconds_simulated, 1),
    }


def _pressure_json(p: Pressure) -> dict[str, Any]:
    return {
        "limit": p.limit,
        "demand": round(p.demand, 1),
        "allowed": p.allowed,
        "unit": p.unit,
        "ratio": round(p.ratio, 3),
        "bites": p.ratio >= 1 or p.rejected > 0,
        "kind": p.kind,
        "source": p.source,
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"Capacity plan: {result['rate_per_s']:g} uploads/s, {result['mode']}"
        f" ({result['uploads']:,} uploads, {result['seconds_simulated']:g} s simulated)",
        "",
        f"  {'stage':12} {'cpu':>5} {'conc':>5} {'max':>5} {'needed':>6} {'peak':>5} {'cold':>5}"
        f" {'429s':>8} {'p50 s':>7} {'p99 s':>7}",
    ]
    for name, s in result["stages"].items():
        lines.append(
            f"  {name:12} {s['cpu']:>5} {s['concurrency']:>5} {s['max_instances']:>5}"
            f" {s['instances_needed']:>6} {s['peak_instances']:>5} {s['cold_starts']:>5}"
            f" {s['rejected_429']:>8,} {s['p50_s']:>7.2f}"
            f" {s['p99_s']:>7.2f}"
        )
    lines += [
        "",
        f"  upload to result: p50 {result['p50_s']:.2f} s, p99 {result['p99_s']:.2f} s;"
        f" {result['polls_per_upload']:.1f} polls per upload",
        f"  uploads failed by overload: {result['failed_uploads']:,}",
    ]
    if result["firestore_wait_p99_s"] > 0:
        lines.insert(
            -1,
            f"  result writes queued at Firestore's limit: p99 {result['firestore_wait_p99_s']:.2f} s",
        )
    lines += [f"    {n:,}  {reason}" for reason, n in result["failed_by"].items()]
    b = result["bottleneck"]
    verb = "bites" if b["bites"] else "is next"
    lines += [
        "",
        f"  what {verb} first: {b['limit']}: {b['demand']:,g} against {b['allowed']:,g} {b['unit']}"
        f" ({b['ratio']:.0%}; {b['source']})",
        "  then (hard: requests fail past it; guidance: latency and errors rise while the platform adapts;"
        " quota: raise it before deploying):",
        *(
            f"    {p['ratio']:>7.0%}  {p['kind']}: {p['limit']} ({p['source']})"
            for p in result["pressures"]
            if p["limit"] != b["limit"]
        ),
        "",
        f"  cost: ${result['cost_per_million_usd']:,.2f} per million uploads"
        f" (functions ${result['cost_functions_per_million_usd']:,.2f});"
        f" ${result['cost_per_month_usd']:,.0f} a month at this rate",
    ]
    return "\n".join(lines)
