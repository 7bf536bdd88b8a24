"""The first upload after an idle spell, end to end, with and without the warm-up (POST /warm).

    .venv/bin/python -m bench.first_upload [--runs N] [--page-wait S] [--scenarios ...] [--cloud-cpu]
                                           [--out PATH]

After an idle spell every function has scaled to zero, so an upload meets up to three cold
starts in a row: the page's `POST /uploads` starts results_api; the upload lands in the
bucket and its event starts preprocess; the features message starts predict; meanwhile the
page polls `GET /results` until it reads `done`. Each function here sits behind a
`ScaleFromZero` URL, as on Cloud Run: nothing runs until its first request or event
arrives, which spawns the deployed function (the archive from `scripts/package.sh` under
functions-framework, in a requirements.txt-only venv compiled as the Cloud build does, as in
`bench.function_cold_start`) and is forwarded once its port opens; later requests go
straight to it. results_api is given those URLs as PREPROCESS_URL and PREDICT_URL, so its
warm-ups spawn preprocess and predict exactly as the upload's events would.

Four scenarios, each on new processes, all four back to back in every run (rotating
order), so they share the machine's load; the real emulators (Firebase Auth too) serve all:
- `today`: warm-ups off (results_api has no function URLs): the upload meets three cold starts.
- `page_opened`: the page opens (a new anonymous visitor signs in, untimed) and calls
  POST /warm, which starts results_api, and results_api's warm-ups start preprocess and
  predict; the visitor uploads `--page-wait` seconds (3) after the page opened.
- `api_client`: an API client that never opens the page: POST /uploads on a cold results_api
  (which sends the warm-ups), then the PUT at once.
- `warm`: every function already up and past one upload (untimed): the reference.

The clock (`time.perf_counter`) starts when POST /uploads is sent: `done_read` is seconds
from the upload call to the poll that reads `done` (every 50 ms from the PUT on; the page
polls after 250 ms, then ×1.5, a finer step keeps the poll schedule from dominating the
figure). The upload goes through the signed URL to the storage emulator, as the page does.
Eventarc's and Pub/Sub's delivery hops are not in it (the event is POSTed once the PUT is
done; predict's once preprocess has answered); each ScaleFromZero hop adds well under a
millisecond. All processes share this machine's cores, while on Cloud each instance has its
own CPU; locally a function serves its warm-up and an event at once (gunicorn threads), on
Cloud at concurrency 1 an event waits for the warm-up's end (or a new instance).

`--cloud-cpu` gives each spawned function the vCPU its Cloud instance has in
infra/terraform's sizing (results_api 1, preprocess and predict 0.5), with a CPU cgroup
quota (bench/cloud_cpu.py, root only): on Cloud every instance has its own CPU, so the
warm-up's three simultaneous start-ups do not compete for this machine's two cores, and a
0.5-vCPU start takes about twice a full core's. Without it every process may use
any core, as on one developer machine. It writes bench/results/first_upload_cloud_cpu.json.

Reported: per scenario, the medians (min, max) of each step; the medians of the per-run
ratios page_opened/warm and api_client/today, and whether each meets its goal (`goals`).
Writes bench/results/first_upload.json.
"""

from __future__ import annotations

import argparse
import http.server
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import urllib3

from bench.clip_cost import save_results
from bench.function_cold_start import (
    WORK,
    Instance,
    Pipeline,
    claim_a_core,
    code_tree,
    deployed_sources,
    emulators_with_resources,
    runtime_venv,
)
from local_stack.processes import free_port
from shared.accounts.ownership import user_prefix
from shared.capacity.deployment import Deployment
from shared.names import result_key
from shared.pipeline.events import WARM_UP

RESULTS = Path(__file__).resolve().parent / "results" / "first_upload.json"
CLOUD_CPU_RESULTS = RESULTS.with_name("first_upload_cloud_cpu.json")
STATE = "bytecode"  # what the Cloud build leaves (docs/performance.md, "Bytecode on Google Cloud")
POLL_S = 0.05
SCENARIOS = ("today", "page_opened", "api_client", "warm")
# The warm-up's goals (issue "warm on arrival"): for each pair of scenarios, the median of
# the per-run ratios over / under at most this.
GOALS = {("page_opened", "warm"): 1.5, ("api_client", "today"): 0.65}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "date", "server"}


class ScaleFromZero:
    """A function's URL as Cloud Run gives it: the first request spawns the process and waits for
    its port; every request is forwarded to it. Records when each warm-up it forwarded ended."""

    def __init__(
        self, name: str, venv: Path, source: Path, env: dict[str, str], vcpu: float | None = None
    ) -> None:
        self.name, self.venv, self.source, self.env, self.vcpu = name, venv, source, env, vcpu
        self.instance: Instance | None = None
        self.warm_ups_done: list[float] = []  # perf_counter when each warm-up's reply came
        self._lock = threading.Lock()
        self._http = urllib3.PoolManager(maxsize=16, retries=False, timeout=urllib3.Timeout(60))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, name=f"{name}-url", daemon=True).start()

    def running(self) -> Instance:
        """The instance, spawned by the first caller (the others wait for its port, as Cloud Run queues)."""
        with self._lock:
            if self.instance is None:
                instance = Instance(self.venv, self.source, self.name, self.env, self.vcpu)
                instance.wait_listening()
                self.instance = instance
            return self.instance

    def warm_up_end(self, timeout_s: float = 60.0) -> float:
        """When the first warm-up's reply came (waiting for it: it may outlast the upload)."""
        deadline = time.perf_counter() + timeout_s
        while not self.warm_ups_done:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{self.name} answered no warm-up in {timeout_s:.0f} s")
            time.sleep(0.01)
        return self.warm_ups_done[0]

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> urllib3.BaseHTTPResponse:
        reply = self._http.request(method, self.running().url + path, body=body or None, headers=headers)
        if headers.get("ce-type") == WARM_UP:
            self.warm_ups_done.append(time.perf_counter())
        return reply

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        url = self

        class Forward(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                reply = url._forward(self.command, self.path, headers, body)
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    if key.lower() not in HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(reply.data)))
                self.end_headers()
                self.wfile.write(reply.data)

            do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = _any

            def log_message(self, *args: Any) -> None:
                pass

        return Forward

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self.instance is not None:
            self.instance.stop()


class Poller(threading.Thread):
    """GET /results?name= every POLL_S until the document says done; when it did, from t0."""

    def __init__(self, url: str, name: str, t0: float, headers: dict[str, str]) -> None:
        super().__init__(name="poller", daemon=True)
        self.url, self.upload, self.t0, self.headers = url, name, t0, headers
        self.done_s: float | None = None
        self.last_refusal = ""  # the last non-200 reply (404 until preprocess claims the upload)
        self.stopped = threading.Event()

    def run(self) -> None:
        with requests.Session() as session:
            session.headers.update(self.headers)
            while not self.stopped.wait(POLL_S):
                reply = session.get(f"{self.url}/results", params={"name": self.upload}, timeout=60)
                if reply.status_code != 200:
                    self.last_refusal = f"{reply.status_code} {reply.text[:200]}"
                if reply.status_code == 200 and reply.json()["status"] == "done":
                    self.done_s = time.perf_counter() - self.t0
                    return


class Functions:
    """results_api, preprocess and predict, each behind its own ScaleFromZero URL."""

    def __init__(self, venv: Path, sources: dict[str, Path], env: dict[str, str], warm_ups: bool,
                 vcpu: dict[str, float] | None) -> None:  # fmt: skip
        """`vcpu`: each function's share of a core (--cloud-cpu), or None for no limit."""
        vcpu = vcpu or {}
        pipeline = {
            n: ScaleFromZero(n, venv, sources[n], env, vcpu.get(n)) for n in ("preprocess", "predict")
        }
        urls = {"PREPROCESS_URL": pipeline["preprocess"].url, "PREDICT_URL": pipeline["predict"].url}
        api_env = {**env, **(urls if warm_ups else {"PREPROCESS_URL": "", "PREDICT_URL": ""})}
        api = "results_api"
        self.api = ScaleFromZero(api, venv, sources[api], api_env, vcpu.get(api))
        self.preprocess, self.predict = pipeline["preprocess"], pipeline["predict"]

    def stop(self) -> None:
        for url in (self.api, self.preprocess, self.predict):
            url.stop()


def upload(pipeline: Pipeline, functions: Functions, token: dict[str, str], uid: str) -> dict[str, float]:
    """One upload as the page makes it; seconds from sending POST /uploads to each step."""
    asked = f"bench/first/{uuid.uuid4().hex}.wav"
    body = {"name": asked, "content_type": "audio/wav", "size": len(pipeline.clip)}
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    signed = requests.post(f"{functions.api.url}/uploads", json=body, headers=token, timeout=60)
    marks["upload_url"] = time.perf_counter() - t0
    if signed.status_code != 200:
        raise RuntimeError(f"POST /uploads: {signed.status_code} {signed.text[:300]}")
    target = signed.json()
    name = target["name"]
    if name != user_prefix(uid) + asked:
        raise RuntimeError(f"POST /uploads answered the name {name!r}")
    requests.put(target["url"], data=pipeline.clip, headers=target["headers"], timeout=60).raise_for_status()
    marks["uploaded"] = time.perf_counter() - t0
    poller = Poller(functions.api.url, name, t0, token)
    poller.start()
    try:
        blob = pipeline.bucket.get_blob(name)
        obj = {"bucket": pipeline.bucket.name, "name": name, "generation": str(blob.generation),
               "size": str(blob.size), "contentType": blob.content_type}  # fmt: skip
        pipeline.preprocess_event(obj)(functions.preprocess.url).raise_for_status()
        marks["features_published"] = time.perf_counter() - t0
        pipeline.predict_event(result_key(pipeline.bucket.name, name))(
            functions.predict.url
        ).raise_for_status()
        marks["predicted"] = time.perf_counter() - t0
        poller.join(timeout=30)
        if poller.done_s is None:
            raise RuntimeError(f"{name}: the poller never read done (last refusal: {poller.last_refusal})")
        marks["done_read"] = poller.done_s
    finally:
        poller.stopped.set()
    return marks


def scenario(name: str, pipeline: Pipeline, venv: Path, sources: dict[str, Path], env: dict[str, str],
             page_wait_s: float, vcpu: dict[str, float] | None) -> dict[str, float]:  # fmt: skip
    """One run of `name` on new processes; its marks (and, with the page, when the warm-ups ended)."""
    visitor = pipeline.visitor()  # untimed: the page signs in before the visitor records
    token = {"Authorization": f"Bearer {visitor.id_token}"}
    functions = Functions(venv, sources, env, warm_ups=name != "today", vcpu=vcpu)
    try:
        if name == "warm":
            upload(pipeline, functions, token, visitor.uid)  # untimed: every function up and past one
        page_opened = time.perf_counter()
        if name == "page_opened":
            reply = requests.post(f"{functions.api.url}/warm", headers=token, timeout=60)
            if reply.status_code != 204:
                raise RuntimeError(f"POST /warm: {reply.status_code} {reply.text[:300]}")
            time.sleep(max(0.0, page_opened + page_wait_s - time.perf_counter()))
        marks = upload(pipeline, functions, token, visitor.uid)
        if name == "page_opened":
            for function in (functions.preprocess, functions.predict):
                marks[f"{function.name}_warm_after_page_open"] = function.warm_up_end() - page_opened
        return marks
    finally:
        functions.stop()


def _summary(seconds: list[float]) -> dict[str, float]:
    return {"median_s": round(statistics.median(seconds), 3), "min_s": round(min(seconds), 3),
            "max_s": round(max(seconds), 3)}  # fmt: skip


def _ratio(samples: dict[str, list[dict[str, float]]], over: str, under: str) -> float:
    pairs = zip(samples[over], samples[under], strict=True)
    return round(statistics.median(a["done_read"] / b["done_read"] for a, b in pairs), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--page-wait", type=float, default=3.0, help="seconds from page open to upload")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument(
        "--cloud-cpu", action="store_true", help="hold each function to its Cloud vCPU (root, cgroups)"
    )
    parser.add_argument("--out", type=Path, help="where to write the JSON (default: bench/results/)")
    args = parser.parse_args()
    vcpu = None
    if args.cloud_cpu:
        sizing = Deployment.read(None).sizing
        vcpu = {name: sizing[name].vcpu for name in ("results_api", "preprocess", "predict")}
    out = args.out or (CLOUD_CPU_RESULTS if vcpu else RESULTS)
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    venv = runtime_venv(STATE)
    sources = deployed_sources(code_tree(None), "this", STATE)
    prioritised = claim_a_core()
    report: dict[str, Any] = {
        "what": "POST /uploads -> reading done, results_api, preprocess and predict each spawned on its "
        "first request or event (ScaleFromZero), bytecode as the Cloud build leaves it; today: no "
        "warm-up; page_opened: POST /warm when the page opens, upload --page-wait s later; api_client: "
        "POST /uploads warms, PUT at once; warm: every function up",
        "runs": args.runs,
        "page_wait_s": args.page_wait,
        "load_average_before": os.getloadavg()[0],
        "nice_minus_10": prioritised,
        "vcpu_per_function": vcpu,  # None: any core (no --cloud-cpu)
    }
    loads = []
    chosen = tuple(args.scenarios)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in chosen}
    with emulators_with_resources() as env:
        pipeline = Pipeline(env)
        process_env = {k: v for k, v in {**os.environ, **env}.items() if k != "PYTHONPATH"}
        report["load_average_emulators_ready"] = os.getloadavg()[0]
        run: Callable[[str], dict[str, float]] = lambda name: scenario(  # noqa: E731
            name, pipeline, venv, sources, process_env, args.page_wait, vcpu
        )
        for name in chosen:  # untimed: the OS file cache warm, the emulators past their first requests
            run(name)
        for i in range(args.runs):
            loads.append(os.getloadavg()[0])
            for name in chosen[i % len(chosen) :] + chosen[: i % len(chosen)]:
                samples[name].append(run(name))
                print(f"run {i + 1} {name:11} done_read {samples[name][-1]['done_read']:.2f} s", flush=True)
        loads.append(os.getloadavg()[0])
    report["load_average_during"] = {
        "median": round(statistics.median(loads), 2),
        "min": round(min(loads), 2),
        "max": round(max(loads), 2),
        "what": "1-minute, before each run of the four scenarios and after the last",
    }
    report["scenarios"] = {
        name: {mark: _summary([r[mark] for r in runs]) for mark in runs[0]} for name, runs in samples.items()
    }
    goals = {}
    for (over, under), goal in GOALS.items():
        if over in samples and under in samples:
            key = f"ratio_{over}_to_{under}"
            report[key] = _ratio(samples, over, under)
            goals[key] = {"at_most": goal, "met": report[key] <= goal}
    report["goals"] = goals
    report["load_average_after"] = os.getloadavg()[0]
    for name, marks in report["scenarios"].items():
        print(f"{name:11} " + "  ".join(f"{m} {v['median_s']:.2f} s" for m, v in marks.items()))
    for key, goal in report["goals"].items():
        print(f"{key}: {report[key]:.2f} (goal <= {goal['at_most']}: {'met' if goal['met'] else 'not met'})")
    save_results(out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
