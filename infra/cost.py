"""Cost on paper: what a million classifications cost on Cloud Run functions, at list prices.

Reads the functions' memory and CPU from infra/terraform/functions.tf (local.sizing_defaults),
so the figures follow the configuration. Run: `.venv/bin/python infra/cost.py`.

Prices: Cloud Run request-based billing ("CPU only allocated during request processing"),
Tier 1 regions, USD, as listed on cloud.google.com/run/pricing in 2025 (the prices Cloud
Run functions gen2 are billed at). Free tier ignored (it is per billing account).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path

FUNCTIONS_TF = Path(__file__).resolve().parent / "terraform" / "functions.tf"
WEB_DIST = Path(__file__).resolve().parents[1] / "frontend_stub" / "dist"

PRICE_VCPU_S = 0.000024  # USD per vCPU-second
PRICE_GIB_S = 0.0000025  # USD per GiB-second
PRICE_REQUEST = 0.40 / 1e6  # USD per request
# A warm instance (min_instances) while it serves nothing: the idle rate, billed all month.
PRICE_IDLE_VCPU_S = 0.0000025  # USD per vCPU-second
PRICE_IDLE_GIB_S = 0.0000025  # USD per GiB-second
MONTH_S = 730 * 3600
BILLING_STEP_S = 0.1  # billable time is rounded up to 100 ms

# Around the functions (same date): Firestore Standard document writes/reads, Cloud
# Storage Standard class A (PUT) / class B (GET) operations, Pub/Sub throughput.
PRICE_FIRESTORE_WRITE = 0.18 / 100_000
PRICE_FIRESTORE_READ = 0.06 / 100_000
PRICE_STORAGE_CLASS_A = 0.005 / 1000
PRICE_STORAGE_CLASS_B = 0.0004 / 1000
PRICE_PUBSUB_TIB = 40.0
# The page (web.tf): Cloud Storage data transfer to the internet, premium tier, first TiB
# a month, destinations other than China and Australia.
PRICE_EGRESS_GIB = 0.12
CONFIG_JSON_BYTES = 100  # {"apiUrl": "https://results-api-….run.app"}

# Measured (docs/design/ml-stack.md, 2 cores): serving work per call ~10–30 ms of one core. A deployed
# predict's cold start (new process → its first answer, bytecode as the Cloud build leaves
# it) needs 0.77 s of one core (bench/results/function_cold_start.json, median CPU until the reply).
COMPUTE_S_AT_1_VCPU = (0.010, 0.030)
COLD_START_S = 0.77
# The function this project replaces: Keras + librosa in one HTTP function, 1 GiB
# (0.583 vCPU, the platform's pairing), 1.6–3 s for the one HTTP call that did everything.
# The page polls GET /results after 250 ms, then ×1.5 (frontend_stub/src/lib/poll.js):
# an upload answered in ~1.5 s (upload to result, deployed) takes about six polls
# (`coughcloud capacity` counts them from each upload's simulated latency).
POLLS = 6
# What one upload costs around the functions, counted in the code (shared/pipeline/results.py):
# Firestore writes: the claim (create), features_ready, features_published, the finished
# marker (create) and done; reads: the two checks before the claim and finish, one per poll.
FIRESTORE_WRITES_PER_UPLOAD = 5
FIRESTORE_READS_PER_UPLOAD = 2
# A 5 s clip's features message (20 MFCC x 501 frames float32 = 40 KB), as JSON with the
# matrix in base64 (coughcloud.features.v1) or as a binary payload (v2), plus the result message.
FEATURES_MESSAGE_BYTES = {"json-base64": 54_000, "binary": 41_000}
RESULT_MESSAGE_BYTES = 1_500
# Cloud Logging: entries one upload writes besides its HTTP request logs (the functions'
# structured lines and the event deliveries' request logs), one request log per results_api
# call, ~1 KB each; $0.50/GiB past the 50 GiB a month free (per project).
LOG_ENTRIES_PER_UPLOAD = 8
LOG_ENTRY_BYTES = 1_000
PRICE_LOGGING_GIB = 0.50
ORIGINAL = {"memory_gib": 1.0, "cpu": 0.583, "seconds": (1.6, 3.0)}


@dataclass(frozen=True)
class Sizing:
    memory: str
    cpu: str
    timeout_s: float
    concurrency: int
    min_instances: int
    max_instances: int

    @property
    def memory_gib(self) -> float:
        number, unit = re.fullmatch(r"([\d.]+)\s*(Mi|Gi|M|G)", self.memory).groups()
        factor = {"Mi": 1 / 1024, "Gi": 1.0, "M": 1e6 / 2**30, "G": 1e9 / 2**30}[unit]
        return float(number) * factor

    @property
    def vcpu(self) -> float:
        return float(self.cpu)


def function_sizing(text: str | None = None) -> dict[str, Sizing]:
    """The rows of `sizing_defaults = { name = { memory = ..., ... } }` in functions.tf."""
    text = FUNCTIONS_TF.read_text() if text is None else text
    table = re.search(r"sizing_defaults = \{\n(.*?)\n\s*\}\n", text, flags=re.S)
    if table is None:
        raise ValueError("functions.tf has no sizing_defaults table")
    sizing = {}
    for name, row in re.findall(r"^\s*(\w+)\s*=\s*\{(.*)\}\s*$", table.group(1), flags=re.M):
        values = dict(re.findall(r'(\w+)\s*=\s*"?([^",]+?)"?\s*(?:,|$)', row.strip()))
        sizing[name] = Sizing(
            memory=values["memory"],
            cpu=values["cpu"],
            timeout_s=float(values["timeout_s"]),
            concurrency=int(values["concurrency"]),
            min_instances=int(values["min_instances"]),
            max_instances=int(values["max_instances"]),
        )
    return sizing


def billed_seconds(busy_s: float) -> float:
    return math.ceil(busy_s / BILLING_STEP_S - 1e-9) * BILLING_STEP_S


def call_cost(memory_gib: float, vcpu: float, busy_s: float) -> float:
    """One request on an instance that does nothing else (the worst case: no sharing)."""
    seconds = billed_seconds(busy_s)
    return seconds * (vcpu * PRICE_VCPU_S + memory_gib * PRICE_GIB_S) + PRICE_REQUEST


def idle_month_cost(s: Sizing) -> float:
    """A month of one instance kept warm by min_instances and serving nothing."""
    return MONTH_S * (s.vcpu * PRICE_IDLE_VCPU_S + s.memory_gib * PRICE_IDLE_GIB_S)


def pubsub_cost(encoding: str) -> float:
    """One upload's messages, each published once and delivered once."""
    return 2 * (FEATURES_MESSAGE_BYTES[encoding] + RESULT_MESSAGE_BYTES) / 2**40 * PRICE_PUBSUB_TIB


def logging_cost(api_calls_logged: float) -> float:
    """One upload's log entries past the free allotment: its own, and its logged API calls."""
    return (LOG_ENTRIES_PER_UPLOAD + api_calls_logged) * LOG_ENTRY_BYTES / 2**30 * PRICE_LOGGING_GIB


def per_million(cost: float) -> str:
    return f"${cost * 1e6:,.2f}"


def report() -> str:
    sizing = function_sizing()
    lines = [
        "Cost per million classifications: Cloud Run functions (gen2), request-based billing,"
        " Tier 1 list prices",
        f"  prices: ${PRICE_VCPU_S}/vCPU-s, ${PRICE_GIB_S}/GiB-s,"
        f" ${PRICE_REQUEST * 1e6:.2f}/million requests,"
        f" billed time rounded up to {BILLING_STEP_S * 1000:.0f} ms",
        "",
        f"  per classification: 1 preprocess + 1 predict + 1 POST /uploads + {POLLS} GET /results",
    ]
    calls = {"preprocess": 1, "predict": 1, "results_api": 1 + POLLS}
    low, high = COMPUTE_S_AT_1_VCPU
    total = 0.0
    for name, count in calls.items():
        s = sizing[name]
        # Single-threaded work slows down on a fraction of a vCPU; bill the slow end.
        busy = (low / min(s.vcpu, 1.0), high / min(s.vcpu, 1.0))
        cost = count * call_cost(s.memory_gib, s.vcpu, busy[1])
        total += cost
        lines.append(
            f"  {name:12} {count} call(s) at {s.memory} / {s.cpu} vCPU:"
            f" {busy[0] * 1000:.0f}–{busy[1] * 1000:.0f} ms of work,"
            f" billed {billed_seconds(busy[1]) * 1000:.0f} ms each → {per_million(cost)}"
        )
    lines.append(f"  functions total: {per_million(total)} per million classifications")
    predict = sizing["predict"]
    cold_s = COLD_START_S / predict.vcpu
    cold = call_cost(predict.memory_gib, predict.vcpu, cold_s) - PRICE_REQUEST
    lines.append(
        f"  a cold start adds ~{cold_s:.1f} s at {predict.cpu} vCPU:"
        f" {per_million(cold)} per million cold starts"
    )
    lines.append("  one warm instance (min_instances = 1), idle all month, at the idle rate:")
    for name, s in sizing.items():
        lines.append(f"    {name:12} {s.memory} / {s.cpu} vCPU: ${idle_month_cost(s):.2f} a month")
    one_vcpu = dataclasses.replace(predict, cpu="1")
    ratio = call_cost(one_vcpu.memory_gib, 1.0, 0.1) / call_cost(predict.memory_gib, predict.vcpu, 0.1)
    lines.append(
        f"  cpu = 1 instead of {predict.cpu} (a cold start at full-core speed):"
        f" {ratio:.1f}x the cost of each 100 ms billed"
    )
    original = [call_cost(ORIGINAL["memory_gib"], ORIGINAL["cpu"], s) for s in ORIGINAL["seconds"]]
    lines += [
        "",
        f"  original single function (1 GiB / {ORIGINAL['cpu']} vCPU, 1.6–3 s a call, 1 call):"
        f" {per_million(original[0])} – {per_million(original[1])} per million",
        f"  ratio: {original[0] / total:.0f}x – {original[1] / total:.0f}x cheaper in compute",
        "",
        "  around the functions (same for any design that stores results):",
    ]
    around = {
        f"Firestore {FIRESTORE_WRITES_PER_UPLOAD} writes (claim, features_ready, features_published, marker,"
        " done)": FIRESTORE_WRITES_PER_UPLOAD * PRICE_FIRESTORE_WRITE,
        f"Firestore {FIRESTORE_READS_PER_UPLOAD + POLLS} reads ({FIRESTORE_READS_PER_UPLOAD} checks,"
        f" {POLLS} polls)": (FIRESTORE_READS_PER_UPLOAD + POLLS) * PRICE_FIRESTORE_READ,
        "Cloud Storage 1 PUT + 1 GET": PRICE_STORAGE_CLASS_A + PRICE_STORAGE_CLASS_B,
        "Pub/Sub features (binary) + result, published and delivered": pubsub_cost("binary"),
        f"Cloud Logging {LOG_ENTRIES_PER_UPLOAD} entries + 1 per API call (polls excluded)": logging_cost(1),
    }
    for item, cost in around.items():
        lines.append(f"    {item}: {per_million(cost)}")
    lines.append(f"    total around: {per_million(sum(around.values()))} per million")
    return "\n".join(lines + page_cost_lines() + warming_cost_lines())


def page_cost_lines() -> list[str]:
    """Serving the page from its bucket: egress and GETs, per visit rather than per upload."""
    files = [p for p in WEB_DIST.rglob("*") if p.is_file() and p.name != "config.json"]
    if not files:
        return ["", "  the page: frontend_stub/dist is not built (make setup)"]
    first_bytes = sum(p.stat().st_size for p in files) + CONFIG_JSON_BYTES
    first = first_bytes / 2**30 * PRICE_EGRESS_GIB + (len(files) + 1) * PRICE_STORAGE_CLASS_B
    # Hashed assets stay in the browser cache; index.html is revalidated (a 304) and
    # config.json fetched again.
    repeat = CONFIG_JSON_BYTES / 2**30 * PRICE_EGRESS_GIB + 2 * PRICE_STORAGE_CLASS_B
    return [
        "",
        f"  the page (web bucket, ${PRICE_EGRESS_GIB}/GiB egress + GETs), per visit, not per classification:",
        f"    first visit {first_bytes / 1000:.0f} KB in {len(files) + 1} GETs:"
        f" {per_million(first)} per million",
        f"    returning visit (assets cached, 2 GETs): {per_million(repeat)} per million",
    ]


VARIABLES_TF = FUNCTIONS_TF.parent / "variables.tf"
WARMED = ("preprocess", "predict")  # what POST /warm starts (shared/cloud/warmup.py)
DAY_S = 86_400
MONTH_DAYS = 730 / 24


def warm_up_interval_s(text: str | None = None) -> float:
    """var.warm_up_interval_s's default in variables.tf: one results_api instance warms each
    function at most once per this many seconds."""
    text = VARIABLES_TF.read_text() if text is None else text
    block = re.search(r'variable "warm_up_interval_s" \{(.*?)\n\}', text, flags=re.S)
    if block is None:
        raise ValueError("variables.tf has no warm_up_interval_s variable")
    return float(re.search(r"default\s*=\s*([\d.]+)", block.group(1)).group(1))


@dataclass(frozen=True)
class WarmingMonth:
    """What warming costs in a month at `page_views_per_day`, an upper bound, against min_instances."""

    page_views_per_day: float
    results_api_instances: int  # assumed alive at once: each sends its own warm-ups
    warm_ups_per_function: float  # sent in the month, per warmed function: at most this
    warm_calls: float  # POST /warm requests, one per page view
    cost: float  # USD: the POST /warm calls and every warm-up billed as a cold start
    min_instances_cost: float  # USD: one warm instance of each warmed function instead, all month


def warming_month(page_views_per_day: float, interval_s: float | None = None) -> WarmingMonth:
    """Each page view calls POST /warm (one results_api request of ~30 ms, billed 100 ms). Each
    results_api instance sends a function at most one warm-up per interval, so warm-ups are the
    fewer of the page views and `instances × a day / interval` a day. Each is billed as if it
    started a new instance (the cold start at the function's vCPU, COLD_START_S being predict's,
    the larger) and the visitor never uploaded: an upper bound, since a warm instance bills one
    100 ms step, and a visitor who uploads would have paid that cold start anyway.
    results_api instances: the page's calls (POST /warm, POST /uploads, polls) at 100 ms each,
    counted one at a time per instance, rounded up, at least one. results_api takes up to its
    concurrency at once, so fewer instances send fewer warm-ups: this too is an upper bound."""
    interval_s = warm_up_interval_s() if interval_s is None else interval_s
    sizing = function_sizing()
    api = sizing["results_api"]
    calls_per_view = 2 + POLLS
    instances = max(1, math.ceil(page_views_per_day / DAY_S * calls_per_view * BILLING_STEP_S))
    warm_ups_per_day = min(page_views_per_day, instances * DAY_S / interval_s)
    warm_calls = page_views_per_day * MONTH_DAYS
    warm_call_s = COMPUTE_S_AT_1_VCPU[1] / min(api.vcpu, 1.0)
    cost = warm_calls * call_cost(api.memory_gib, api.vcpu, warm_call_s)
    for name in WARMED:
        s = sizing[name]
        cold_s = (COLD_START_S + COMPUTE_S_AT_1_VCPU[1]) / min(s.vcpu, 1.0)
        cost += warm_ups_per_day * MONTH_DAYS * call_cost(s.memory_gib, s.vcpu, cold_s)
    return WarmingMonth(
        page_views_per_day=page_views_per_day,
        results_api_instances=instances,
        warm_ups_per_function=warm_ups_per_day * MONTH_DAYS,
        warm_calls=warm_calls,
        cost=cost,
        min_instances_cost=sum(idle_month_cost(sizing[name]) for name in WARMED),
    )


def warming_cost_lines(page_views: tuple[float, ...] = (10, 1_000, 100_000)) -> list[str]:
    interval_s = warm_up_interval_s()
    lines = [
        "",
        f"  warming on page view (POST /warm; at most one warm-up per function per {interval_s:.0f} s",
        "  and results_api instance), a month, upper bound, against min_instances = 1 for "
        + " and ".join(WARMED)
        + ":",
    ]
    for views in page_views:
        month = warming_month(views, interval_s)
        lines.append(
            f"    {views:>7,.0f} page views a day: ≤ {month.warm_ups_per_function:,.0f} warm-ups per function"
            f" ({month.results_api_instances} results_api instance(s)): ${month.cost:.2f} a month;"
            f" min_instances: ${month.min_instances_cost:.2f} a month"
        )
    return lines


if __name__ == "__main__":
    print(report())
