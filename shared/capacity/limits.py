"""Every figure the capacity plan uses, in one place: the platforms' documented limits (each
with the page it comes from, as read in 2026) and the plan's own assumptions (each saying
why). Prices and per-upload operation counts live in infra/cost.py, which the plan reads.

A documented limit is either a hard one (past it requests fail: IAM's signBlob quota, a
function's max instances) or guidance (past it latency and error rates rise while the
platform rebalances: Cloud Storage's initial request rate, Firestore's 500/50/5 ramp). The
plan simulates the hard ones and the caps it can place in time, and names the others when
the rate crosses them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """A documented figure: what it limits, its value and unit, and where it is written."""

    what: str
    value: float
    unit: str
    source: str
    hard: bool  # requests fail past it (else: latency and errors rise while the platform adapts)

    def describe(self) -> str:
        return f"{self.what}: {self.value:,g} {self.unit} ({self.source})"


CLOUD_RUN_CONCURRENCY = "https://cloud.google.com/run/docs/about-concurrency"
CLOUD_RUN_CPU = "https://cloud.google.com/run/docs/configuring/services/cpu"
CLOUD_RUN_MAX_INSTANCES = "https://cloud.google.com/run/docs/configuring/max-instances"
CLOUD_RUN_AUTOSCALING = "https://cloud.google.com/run/docs/about-instance-autoscaling"
GCS_REQUEST_RATE = "https://cloud.google.com/storage/docs/request-rate"
FIRESTORE_SHARD_TIMESTAMP = "https://firebase.google.com/docs/firestore/solutions/shard-timestamp"
FIRESTORE_BEST_PRACTICES = "https://cloud.google.com/firestore/docs/best-practices"
IAM_QUOTAS = "https://cloud.google.com/iam/quotas"
IDENTITY_PLATFORM_QUOTAS = "https://cloud.google.com/identity-platform/quotas"
PUBSUB_HANDLING_FAILURES = "https://cloud.google.com/pubsub/docs/handling-failures"
PUBSUB_PUSH = "https://cloud.google.com/pubsub/docs/push"
EVENTARC_RETRY = "https://cloud.google.com/eventarc/docs/retry-events"
LOGGING_PRICING = "https://cloud.google.com/stackdriver/pricing"

LIMITS: dict[str, Limit] = {
    "run_max_concurrency": Limit(
        "Cloud Run requests per instance at most",
        1000,
        "concurrent requests",
        CLOUD_RUN_CONCURRENCY,
        hard=True,
    ),
    "run_concurrency_below_1_vcpu": Limit(
        "Cloud Run concurrency below 1 vCPU (less than 1 CPU: concurrency must be 1)",
        1,
        "concurrent request",
        CLOUD_RUN_CPU,
        hard=True,
    ),
    "run_default_max_instances": Limit(
        "Cloud Run max instances by default (raised only by quota)",
        100,
        "instances",
        CLOUD_RUN_MAX_INSTANCES,
        hard=True,
    ),
    "gcs_initial_writes": Limit(
        "Cloud Storage bucket's initial write capacity (uploads, updates, deletes); ramp: x2 per 20 min",
        1000,
        "object writes/s",
        GCS_REQUEST_RATE,
        hard=False,
    ),
    "gcs_initial_reads": Limit(
        "Cloud Storage bucket's initial read capacity", 5000, "object reads/s", GCS_REQUEST_RATE, hard=False
    ),
    "firestore_sequential_index": Limit(
        "Firestore writes to a collection whose documents hold a monotonically rising indexed field",
        500,
        "writes/s",
        FIRESTORE_SHARD_TIMESTAMP,
        hard=True,
    ),
    "firestore_500_50_5": Limit(
        "Firestore ramp-up: start at 500 operations/s on new traffic, then +50% every 5 minutes (500/50/5)",
        500,
        "operations/s from cold",
        FIRESTORE_BEST_PRACTICES,
        hard=False,
    ),
    "iam_sign_blob": Limit(
        "IAM Service Account Credentials API (signBlob: one per signed upload URL), per project",
        60000,
        "requests/min",
        IAM_QUOTAS,
        hard=True,
    ),
    "identity_signups_per_ip": Limit(
        "Identity Platform new accounts (anonymous sign-ins included) per IP address",
        100,
        "accounts/hour",
        IDENTITY_PLATFORM_QUOTAS,
        hard=True,
    ),
    "identity_anonymous_accounts": Limit(
        "Identity Platform anonymous user accounts per project",
        100e6,
        "accounts",
        IDENTITY_PLATFORM_QUOTAS,
        hard=True,
    ),
    "pubsub_max_delivery_attempts": Limit(
        "Pub/Sub dead-letter policy: max delivery attempts (5 to 100)",
        100,
        "attempts",
        PUBSUB_HANDLING_FAILURES,
        hard=True,
    ),
    "pubsub_max_backoff": Limit(
        "Pub/Sub retry policy: maximum backoff (0 to 600 s)", 600, "s", PUBSUB_HANDLING_FAILURES, hard=True
    ),
    "eventarc_retry_window": Limit(
        "Eventarc: an event not delivered in 24 h is dropped (retried with exponential backoff until then)",
        24 * 3600,
        "s",
        EVENTARC_RETRY,
        hard=True,
    ),
    "logging_free_gib": Limit(
        "Cloud Logging ingestion free per project per month (then $0.50/GiB)",
        50,
        "GiB/month",
        LOGGING_PRICING,
        hard=False,
    ),
}


@dataclass(frozen=True)
class Assumption:
    """A figure the plan needs that no document gives: its value, unit and why."""

    value: float
    unit: str
    why: str


ASSUMPTIONS: dict[str, Assumption] = {
    "pending_s": Assumption(
        10,
        "s",
        "a request that finds every instance busy at max instances waits this long, then is answered 429 "
        f"(Cloud Run holds requests while it adds instances, {CLOUD_RUN_AUTOSCALING}; how long is not said)",
    ),
    "gil_cores": Assumption(
        1,
        "core",
        "an instance runs one Python process (functions-framework: one gunicorn worker, threads): its Python "
        "work uses at most one core whatever the vCPU",
    ),
    "cloud_call_s": Assumption(
        0.015,
        "s",
        "one call to a Google API in the same region (Firestore get/update, Storage read, Pub/Sub publish): "
        "the emulators answer in ~1 ms, Google's front ends in 10-20 ms",
    ),
    "auth_lookup_s": Assumption(
        0.03,
        "s",
        "verify_id_token(check_revoked=True): one Identity Platform account lookup (public keys are cached). "
        "Which requests pay it is shared/accounts/'s revocation policy; the plan charges it on POST /uploads "
        "only when polls_check_revocation is off",
    ),
    "platform_start_s": Assumption(
        1.5,
        "s",
        "Cloud Run schedules an instance and starts its container before Python runs: not measurable here; "
        "bench/function_cold_start.py measures the rest (process start to first answer)",
    ),
    "sign_blob_s": Assumption(0.05, "s", "one IAM signBlob round trip for the signed upload URL"),
    "api_cpu_s": Assumption(
        0.008, "s", "results_api's Python work per request at one full core (Flask, JSON, token parsing)"
    ),
    "polls_check_revocation": Assumption(
        1,
        "flag",
        "1: every poll looks the token's account up (verify_id_token(check_revoked=True) on every call, as "
        "shared/accounts/identity.py does now); 0: only erasure, feedback and sign-in freshness do",
    ),
    "tick_s": Assumption(
        0.05, "s", "the simulation's time step: arrivals, queues and scaling move in 50 ms steps"
    ),
    "drain_s": Assumption(
        600, "s", "after the burst the simulation runs this long for queues and retries to drain"
    ),
    "steady_s": Assumption(120, "s", "a steady rate is simulated for this long on warm instances"),
    "rise_s": Assumption(
        1.0,
        "s",
        "a burst reaches its rate in this time (a link shared at once); its first requests find no instance",
    ),
}


def assumption(name: str) -> float:
    return ASSUMPTIONS[name].value


def limit(name: str) -> float:
    return LIMITS[name].value
