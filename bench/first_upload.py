"""The first upload after an idle spell, end to end, with every function a new process.

    .venv/bin/python -m bench.first_upload [--runs N] [--baseline REV]

After an idle spell every function has scaled to zero, so one upload meets three cold
starts in a row, as on Cloud: the page's `POST /uploads` starts results_api; the upload
lands in the bucket and its event starts preprocess; the features message starts
predict; meanwhile the page polls `GET /results` until it reads `done`. This runs
that chain on the real emulators with the functions deployed as in
`bench.function_cold_start` (archives from `scripts/package.sh`, functions-framework from a
requirements.txt-only venv compiled as the Cloud build does): each function's process is
spawned when its first event is due and gets the event as soon as its port opens. The
upload goes through the signed URL to the storage emulator, as the page does, and from
then on a poller GETs /results every 100 ms (the page polls after 250 ms, then ×1.5; a
finer step keeps the poll schedule from dominating the figure). The clock
(`time.perf_counter`) runs from spawning results_api to the poll that reads `done`.
Eventarc's and Pub/Sub's own delivery hops are not in it (on the local stack the bridge
adds ~3 ms per hop; see bench.e2e_latency). All processes share this machine's cores,
while on Cloud each instance has its own CPU: results_api's first poll (which loads
Firestore) competes here with preprocess's start.

Accounts: the Firebase Auth emulator starts once per benchmark run, alongside the other
emulators; before each run (untimed) a new anonymous visitor signs up through its REST API,
as the page does on a first visit, and every results_api call carries its ID token
(`Authorization: Bearer …`). This tree verifies it on each call (firebase_admin, checked
against the emulator) and answers `POST /uploads` with the name under `users/{uid}/`, which
the PUT, the event and the polls then use; the baseline (no accounts) ignores the header and
keeps the name as sent. So "this" includes token verification (the first one imports
firebase_admin.auth; every poll looks the account up) and the baseline verifies nothing:
see `bench.function_cold_start`'s `token_verification` for what that costs.

Paired runs, this tree and the baseline (default a6a8916) back to back in alternating
order; medians and the median of per-run ratios. Writes bench/results/first_upload.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests

from bench.clip_cost import save_results
from bench.function_cold_start import (
    BASELINE,
    WORK,
    Instance,
    Pipeline,
    claim_a_core,
    code_tree,
    deployed_sources,
    emulators_with_resources,
    has_accounts,
    runtime_venv,
)
from shared.accounts.ownership import user_prefix
from shared.names import result_key

RESULTS = Path(__file__).resolve().parent / "results" / "first_upload.json"
STATE = "bytecode"  # what the Cloud build leaves (docs/performance.md, "Bytecode on Google Cloud")
POLL_S = 0.1


class Poller(threading.Thread):
    """GET /results?name= every POLL_S until the document says done; when it did, from t0."""

    def __init__(self, url: str, name: str, t0: float, headers: dict[str, str]) -> None:
        super().__init__(name="poller", daemon=True)
        self.url, self.upload, self.t0, self.headers = url, name, t0, headers
        self.done_s: float | None = None
        self.polls = 0
        self.last_refusal = ""  # the last non-200 reply (404 until preprocess claims the upload)
        self.stopped = threading.Event()

    def run(self) -> None:
        with requests.Session() as session:
            session.headers.update(self.headers)
            while not self.stopped.wait(POLL_S):
                reply = session.get(f"{self.url}/results", params={"name": self.upload}, timeout=60)
                self.polls += 1
                if reply.status_code != 200:
                    self.last_refusal = f"{reply.status_code} {reply.text[:200]}"
                if reply.status_code == 200 and reply.json()["status"] == "done":
                    self.done_s = time.perf_counter() - self.t0
                    return


def first_upload(
    pipeline: Pipeline, venv: Path, sources: dict[str, Path], env: dict[str, str], accounts: bool
) -> dict:
    """One new visitor's upload through three new processes; seconds from the first spawn, per step."""
    visitor = pipeline.visitor()  # untimed: the page signs in before the visitor records
    token = {"Authorization": f"Bearer {visitor.id_token}"}
    asked = f"bench/first/{uuid.uuid4().hex}.wav"
    expected = user_prefix(visitor.uid) + asked if accounts else asked
    marks: dict[str, float] = {}
    instances: list[Instance] = []
    poller: Poller | None = None
    try:
        api = Instance(venv, sources["results_api"], "results_api", env)
        instances.append(api)
        t0 = api.started
        api.wait_listening()
        body = {"name": asked, "content_type": "audio/wav", "size": len(pipeline.clip)}
        signed = requests.post(f"{api.url}/uploads", json=body, headers=token, timeout=60)
        marks["upload_url"] = time.perf_counter() - t0
        if signed.status_code != 200:
            raise RuntimeError(f"POST /uploads: {signed.status_code} {signed.text[:300]}")
        target = signed.json()
        name = target["name"]  # this tree's is under users/{uid}/
        if name != expected:
            raise RuntimeError(f"POST /uploads answered the name {name!r}, expected {expected!r}")
        requests.put(
            target["url"], data=pipeline.clip, headers=target["headers"], timeout=60
        ).raise_for_status()
        marks["uploaded"] = time.perf_counter() - t0
        poller = Poller(api.url, name, t0, token)
        poller.start()
        blob = pipeline.bucket.get_blob(name)
        obj = {"bucket": pipeline.bucket.name, "name": name, "generation": str(blob.generation),
               "size": str(blob.size), "contentType": blob.content_type}  # fmt: skip
        preprocess = Instance(venv, sources["preprocess"], "preprocess", env)
        instances.append(preprocess)
        preprocess.wait_listening()
        pipeline.preprocess_event(obj)(preprocess.url).raise_for_status()
        marks["features_published"] = time.perf_counter() - t0
        key = result_key(pipeline.bucket.name, name)
        event = pipeline.predict_event(key)  # the message, pulled before predict's process starts
        predict = Instance(venv, sources["predict"], "predict", env)
        instances.append(predict)
        predict.wait_listening()
        event(predict.url).raise_for_status()
        marks["predicted"] = time.perf_counter() - t0
        poller.join(timeout=30)
        if poller.done_s is None:
            raise RuntimeError(f"{name}: the poller never read done (last refusal: {poller.last_refusal})")
        marks["done_read"] = poller.done_s
    finally:
        if poller is not None:
            poller.stopped.set()
        for instance in instances:
            instance.stop()
    return marks


def _summary(seconds: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(seconds), 3), "min_s": round(min(seconds), 3),
            "max_s": round(max(seconds), 3)}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", default=BASELINE, help="the revision to compare with")
    args = parser.parse_args()
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    trees = {"this": code_tree(None), "baseline": code_tree(args.baseline)}
    venv = runtime_venv(STATE)
    sources = {label: deployed_sources(tree, label, STATE) for label, tree in trees.items()}
    prioritised = claim_a_core()
    report: dict[str, Any] = {
        "what": "upload -> done with results_api, preprocess and predict each a new process, "
        "spawned when its first event is due; bytecode as the Cloud build leaves it",
        "baseline_revision": args.baseline,  # "baseline" holds that tree's figures
        "runs": args.runs,
        "load_average_before": os.getloadavg()[0],
        "nice_minus_10": prioritised,
    }
    accounts = {label: has_accounts(tree) for label, tree in trees.items()}
    report["token_verification"] = {
        "this_verifies_token": accounts["this"],
        "baseline_verifies_token": accounts["baseline"],
        "note": "every results_api call carries a new anonymous visitor's Firebase ID token; this tree "
        "verifies it on each (the first call imports firebase_admin.auth, every call looks the account "
        "up on the Auth emulator); the baseline ignores it. 'this' includes verification, the baseline not.",
    }
    loads = []
    with emulators_with_resources() as env:
        pipeline = Pipeline(env)
        process_env = {k: v for k, v in {**os.environ, **env}.items() if k != "PYTHONPATH"}
        report["load_average_emulators_ready"] = os.getloadavg()[0]
        for label in trees:  # untimed: the OS file cache warm
            first_upload(pipeline, venv, sources[label], process_env, accounts[label])
        samples: dict[str, list[dict[str, float]]] = {label: [] for label in trees}
        for i in range(args.runs):
            loads.append(os.getloadavg()[0])
            for label in list(trees) if i % 2 == 0 else reversed(list(trees)):
                samples[label].append(
                    first_upload(pipeline, venv, sources[label], process_env, accounts[label])
                )
        loads.append(os.getloadavg()[0])
    report["load_average_during"] = {
        "median": round(statistics.median(loads), 2),
        "min": round(min(loads), 2),
        "max": round(max(loads), 2),
        "what": "1-minute, before each paired run and after the last",
    }
    for label, runs in samples.items():
        report[label] = {mark: _summary([r[mark] for r in runs]) for mark in runs[0]}
    ratios = [
        a["done_read"] / b["done_read"] for a, b in zip(samples["this"], samples["baseline"], strict=True)
    ]
    report["ratio_done_read"] = round(statistics.median(ratios), 3)
    report["load_average_after"] = os.getloadavg()[0]
    for label in trees:
        marks = report[label]
        print(f"{label:9} " + "  ".join(f"{m} {v['median_s']:.2f} s" for m, v in marks.items()))
    print(f"ratio (upload -> done, this / baseline): {report['ratio_done_read']:.2f}")
    save_results(RESULTS, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
