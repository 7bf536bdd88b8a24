"""Cold start of each deployed function, new process → first answer, this code against a baseline.

    .venv/bin/python -m bench.function_cold_start [--runs N] [--baseline REV] [--states bytecode source]

What a new instance pays before its first event is answered: the interpreter, the
functions-framework server loading the function (Flask, the function module and what it
imports), then the first real event or request, with every client and the model made on
first use. Each function runs as it is deployed: the tree's own `scripts/package.sh`
archive (main.py + shared/ + requirements.txt) unpacked into a directory, served by
`functions-framework --target <name> --source main.py` from a virtualenv holding only
requirements.txt, against the real emulators (Firestore, Pub/Sub, fake-gcs; the model is
read from gs:// as on Cloud). The clock runs from spawn until the HTTP reply to the first
event arrives (`subprocess` + `time.perf_counter`); the port opening on the way is
recorded too, as are the CPU seconds the process and gunicorn's worker used until that
reply (/proc/<pid>/stat: the time one dedicated core needs, whatever else runs) and the
peak RSS (`os.wait4`). Run as root, everything runs at nice -10, so that the other work on
a shared machine pre-empts the timed processes less (see `claim_a_core`).

The events are the pipeline's own: preprocess gets an `object.v1.finalized` event for a
new upload; predict gets the features message preprocess published for it; results_api
gets `POST /uploads` (the first call of a browser session), then `GET /results` (timed
separately, same process); dead_letter gets a dead-lettered upload event. Every answer is
checked (2xx, and the result document in the expected state).

Two bytecode states, each with its own venv and unpacked archives:
- `bytecode`: what the Cloud Functions build does (GoogleCloudPlatform/buildpacks, see the
  README): dependencies compiled with `compileall --invalidation-mode unchecked-hash`, the
  source with `compileall -f`.
- `source`: no `.pyc` anywhere outside the standard library (a uv install, and
  PYTHONDONTWRITEBYTECODE=1): every process compiles everything it imports.

A/B: the baseline (default: a6a8916, before this work) is taken with `git archive`. Runs
are paired: in run i both trees' processes start back to back, in alternating order, so
both see the same machine load. Reported: medians of N runs, min and max, the median of
the per-run ratios (this ÷ baseline). Writes bench/results/function_cold_start.json.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tarfile
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from google.cloud import firestore, pubsub_v1, storage

from bench.clip_cost import save_results
from local_stack import processes, resources
from local_stack.emulators import launch_emulators
from shared.config import REPO_ROOT, Settings, settings
from shared.names import result_key
from shared.pipeline.events import FINALIZED, PUBLISHED

RESULTS = Path(__file__).resolve().parent / "results" / "function_cold_start.json"
WORK = REPO_ROOT / ".local" / "cold-start"
BASELINE = "a6a8916"
FUNCTIONS = ("preprocess", "predict", "results_api", "dead_letter")
STATES = ("bytecode", "source")
CLIP = REPO_ROOT / "examples" / "wet_cough.wav"
READY_TIMEOUT_S = 60.0
# The heaviest single imports of an instance, each timed alone in a new process.
IMPORTS = {
    "python alone": "pass",
    "functions_framework": "import functions_framework",
    "google.cloud.pubsub_v1": "from google.cloud import pubsub_v1",
    "firebase_admin.firestore": "from firebase_admin import firestore",
    "google.cloud.storage": "from google.cloud import storage",
    "numpy": "import numpy",
    "soundfile + soxr": "import soundfile, soxr",
    "av (PyAV)": "import av",
    "ai_edge_litert": "from ai_edge_litert.interpreter import Interpreter",
}


def claim_a_core() -> bool:
    """Run this process, and the emulators and functions it starts, at nice -10 when allowed.

    The goal is a figure "on a full core"; on a shared machine other work would otherwise
    pre-empt the processes being timed (it only waits a little longer for the same CPU).
    Returns whether it applied (it needs root); the JSON records it."""
    try:
        os.nice(-10)
    except PermissionError:
        return False
    return True


def runtime_venv(state: str) -> Path:
    """A venv with only requirements.txt; for `bytecode`, compiled as the Cloud build does."""
    venv = WORK / f"venv-{state}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        uv = Path(sys.executable).parent / "uv"
        requirements = str(REPO_ROOT / "requirements.txt")
        subprocess.run(
            [str(uv), "pip", "install", "-q", "--python", str(python), "-r", requirements], check=True
        )
        if state == "bytecode":
            _compile(python, ["--invalidation-mode", "unchecked-hash", "-qq", str(venv)])
    return venv


def _compile(python: Path, args: list[str]) -> None:
    # Exit status 1 is a file that does not compile (a test fixture in some package); pip and
    # the buildpack ignore those too.
    status = subprocess.run([str(python), "-m", "compileall", *args], stdout=subprocess.DEVNULL).returncode
    if status not in (0, 1):
        raise RuntimeError(f"compileall {args} failed with status {status}")


def code_tree(revision: str | None) -> Path:
    """This working tree (None), or `revision` unpacked from `git archive` under .local/."""
    if revision is None:
        return REPO_ROOT
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision], cwd=REPO_ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    tree = WORK / "trees" / commit
    if not tree.exists():
        archive = subprocess.run(
            ["git", "archive", commit, "functions", "shared", "scripts", "requirements.txt"],
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
        ).stdout
        tree.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
    return tree


def deployed_sources(tree: Path, label: str, state: str) -> dict[str, Path]:
    """Each function's archive, built by the tree's own package.sh and unpacked as Cloud does."""
    out = WORK / state / label
    shutil.rmtree(out, ignore_errors=True)
    zips = out / "zips"
    subprocess.run(
        ["bash", str(tree / "scripts" / "package.sh"), str(zips)], cwd=tree, check=True, capture_output=True
    )
    sources = {}
    for name in FUNCTIONS:
        directory = out / name
        with zipfile.ZipFile(zips / f"{name}.zip") as archive:
            archive.extractall(directory)
        if state == "bytecode":
            _compile(Path(sys.executable), ["-f", "-q", str(directory)])
        sources[name] = directory
    return sources


@contextmanager
def emulators_with_resources() -> Iterator[dict[str, str]]:
    """The three emulators with the stack's buckets, topics, subscriptions, model and signing key."""
    config = Settings.from_env()
    log_dir = WORK / "logs"
    emulators = launch_emulators(config.GOOGLE_CLOUD_PROJECT, config.UPLOAD_BUCKET, log_dir)
    try:
        emulators.wait_ready(READY_TIMEOUT_S)
        os.environ.update(emulators.env())
        settings.cache_clear()
        resources.create_buckets(config)
        resources.create_topics_and_subscriptions(config)
        model_uri = resources.upload_model(config)
        key = resources.signing_key_file(WORK / "signing-key.json", config.GOOGLE_CLOUD_PROJECT)
        yield {
            **emulators.env(),
            "GOOGLE_CLOUD_PROJECT": config.GOOGLE_CLOUD_PROJECT,
            "UPLOAD_BUCKET": config.UPLOAD_BUCKET,
            "FEATURES_TOPIC": config.FEATURES_TOPIC,
            "RESULTS_TOPIC": config.RESULTS_TOPIC,
            "UPLOADS_DEAD_LETTER_TOPIC": config.UPLOADS_DEAD_LETTER_TOPIC,
            "FEATURES_DEAD_LETTER_TOPIC": config.FEATURES_DEAD_LETTER_TOPIC,
            "MODEL_URI": model_uri,
            "SIGNING_KEY_FILE": str(key),
        }
    finally:
        emulators.stop()


@dataclass(frozen=True)
class Answer:
    """One new process's first answer."""

    first_answer_s: float  # spawn → the reply to the first event or request
    listening_s: float  # spawn → its port accepts connections
    second_request_ms: float | None  # results_api: GET /results right after
    cpu_s: float  # user + system of the process and its children, at the first answer
    rss_mb: float


Request = Callable[[str], requests.Response]


class Instance:
    """One function in a new `functions-framework` process (as a Cloud instance starts), stopped by PID."""

    def __init__(self, venv: Path, source: Path, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.port = processes.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [str(venv / "bin" / "functions-framework"), "--target", name, "--source", "main.py"]
        argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        self._log = (WORK / "logs" / f"{name}.log").open("ab")
        self.started = time.perf_counter()
        self.child = subprocess.Popen(argv, cwd=source, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_listening(self) -> float:
        """Seconds from spawn until the port accepts connections."""
        while not _accepts(self.port):
            if self.child.poll() is not None or time.perf_counter() - self.started > READY_TIMEOUT_S:
                raise RuntimeError(f"{self.name} did not start; see {self._log.name}")
            time.sleep(0.002)
        return time.perf_counter() - self.started

    def cpu_s(self) -> float:
        return _tree_cpu_s(self.child.pid)

    def stop(self) -> float:
        """Stop it (SIGINT, as the local stack does) and wait; its peak RSS in MB."""
        self.child.send_signal(signal.SIGINT)
        _, _, usage = os.wait4(self.child.pid, 0)
        self.child.returncode = 0
        self._log.close()
        return usage.ru_maxrss / 1024


def first_answer(venv: Path, source: Path, name: str, env: dict[str, str], first: Request,
                 second: Request | None = None) -> Answer:  # fmt: skip
    """Start one function in a new process and send `first` as soon as its port opens."""
    instance = Instance(venv, source, name, env)
    try:
        listening = instance.wait_listening()
        reply = first(instance.url)
        answered = time.perf_counter() - instance.started
        cpu = instance.cpu_s()
        reply.raise_for_status()
        second_ms = None
        if second is not None:
            t = time.perf_counter()
            second(instance.url).raise_for_status()
            second_ms = (time.perf_counter() - t) * 1000
    finally:
        rss_mb = instance.stop()
    return Answer(answered, listening, second_ms, cpu, rss_mb)


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by `pid` and its descendants (gunicorn's worker)."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(stat[11]) + int(stat[12])  # utime, stime (fields 14 and 15)
    seconds = ticks / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            seconds += _tree_cpu_s(int(child))
    return seconds


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _cloudevent(event_type: str, source: str, data: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": uuid.uuid4().hex,
        "ce-type": event_type,
        "ce-source": source,
        "ce-time": "2026-01-01T00:00:00Z",
        "Content-Type": "application/json",
    }
    return headers, json.dumps(data).encode()


def _pubsub_event(project: str, topic: str, data: bytes, attributes: dict[str, str]) -> tuple[dict, bytes]:
    message = {
        "data": base64.b64encode(data).decode(),
        "attributes": attributes,
        "messageId": uuid.uuid4().hex,
    }
    envelope = {
        "message": message,
        "subscription": f"projects/{project}/subscriptions/bench",
        "deliveryAttempt": 1,
    }
    return _cloudevent(PUBLISHED, f"//pubsub.googleapis.com/projects/{project}/topics/{topic}", envelope)


def _post(path: str, headers: dict[str, str], body: bytes) -> Request:
    return lambda url: requests.post(url + path, data=body, headers=headers, timeout=60)


class Pipeline:
    """The events each function's first answer is timed on, made from real uploads."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.project = env["GOOGLE_CLOUD_PROJECT"]
        self.bucket = storage.Client(project=self.project).bucket(env["UPLOAD_BUCKET"])
        self.db = firestore.Client(project=self.project)
        self.subscriber = pubsub_v1.SubscriberClient()
        trigger = next(t for t in resources.triggers(Settings.from_env()) if t.function == "predict")
        self.features_subscription = self.subscriber.subscription_path(self.project, trigger.subscription)
        self.features: dict[str, tuple[bytes, dict[str, str]]] = {}
        self.clip = CLIP.read_bytes()

    def status(self, key: str) -> str | None:
        snapshot = self.db.collection(settings().RESULTS_COLLECTION).document(key).get()
        return (snapshot.to_dict() or {}).get("status") if snapshot.exists else None

    def upload(self) -> dict[str, Any]:
        blob = self.bucket.blob(f"bench/cold/{uuid.uuid4().hex}.wav")
        blob.upload_from_string(self.clip, content_type="audio/wav")
        return {"bucket": self.bucket.name, "name": blob.name, "generation": str(blob.generation),
                "size": str(len(self.clip)), "contentType": "audio/wav"}  # fmt: skip

    def preprocess_event(self, obj: dict[str, Any]) -> Request:
        headers, body = _cloudevent(
            FINALIZED, f"//storage.googleapis.com/projects/_/buckets/{obj['bucket']}", obj
        )
        return _post("/", headers, body)

    def features_for(self, key: str) -> tuple[bytes, dict[str, str]]:
        """The features message preprocess published for `key` (pulled from predict's trigger)."""
        deadline = time.monotonic() + 30
        while key not in self.features and time.monotonic() < deadline:
            reply = self.subscriber.pull(subscription=self.features_subscription, max_messages=50, timeout=5)
            for received in reply.received_messages:
                attributes = dict(received.message.attributes)
                self.features[attributes.get("key", "")] = (received.message.data, attributes)
            if reply.received_messages:
                ack_ids = [m.ack_id for m in reply.received_messages]
                self.subscriber.acknowledge(subscription=self.features_subscription, ack_ids=ack_ids)
        return self.features.pop(key)

    def predict_event(self, key: str) -> Request:
        data, attributes = self.features_for(key)
        return _post("/", *_pubsub_event(self.project, self.env["FEATURES_TOPIC"], data, attributes))

    def dead_letter_event(self) -> tuple[str, Request]:
        name = f"bench/cold/{uuid.uuid4().hex}.wav"
        obj = {
            "bucket": self.bucket.name,
            "name": name,
            "generation": "1",
            "size": "100",
            "contentType": "audio/wav",
        }
        attributes = {"CloudPubSubDeadLetterSourceDeliveryCount": "5"}
        event = _pubsub_event(
            self.project, self.env["UPLOADS_DEAD_LETTER_TOPIC"], json.dumps(obj).encode(), attributes
        )
        return result_key(self.bucket.name, name), _post("/", *event)

    def api_requests(self, done_name: str) -> tuple[Request, Request]:
        """POST /uploads for a new name, then GET /results of a finished upload."""
        name = f"bench/cold/{uuid.uuid4().hex}.wav"
        body = json.dumps({"name": name, "content_type": "audio/wav", "size": 1000}).encode()
        first = _post("/uploads", {"Content-Type": "application/json"}, body)
        return first, lambda url: requests.get(url + "/results", params={"name": done_name}, timeout=60)


def one_pass(
    pipeline: Pipeline, venv: Path, sources: dict[str, Path], env: dict[str, str]
) -> dict[str, Answer]:
    """Each function once, in a new process, on a new upload; every answer checked."""
    answers: dict[str, Answer] = {}
    obj = pipeline.upload()
    key = result_key(obj["bucket"], obj["name"])
    answers["preprocess"] = first_answer(
        venv, sources["preprocess"], "preprocess", env, pipeline.preprocess_event(obj)
    )
    _expect(pipeline, key, "features_ready")
    answers["predict"] = first_answer(venv, sources["predict"], "predict", env, pipeline.predict_event(key))
    _expect(pipeline, key, "done")
    post, get = pipeline.api_requests(obj["name"])
    answers["results_api"] = first_answer(venv, sources["results_api"], "results_api", env, post, get)
    dead_key, dead_event = pipeline.dead_letter_event()
    answers["dead_letter"] = first_answer(venv, sources["dead_letter"], "dead_letter", env, dead_event)
    _expect(pipeline, dead_key, "failed")
    return answers


def _expect(pipeline: Pipeline, key: str, status: str) -> None:
    found = pipeline.status(key)
    if found != status:
        raise RuntimeError(f"result {key} is {found!r} after its first answer, expected {status!r}")


def _summary(values: list[float], digits: int = 3) -> dict[str, float]:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}  # fmt: skip


def compare(state: str, runs: int, trees: dict[str, Path], env: dict[str, str], pipeline: Pipeline) -> dict:
    """Paired runs of every function in both trees in one bytecode state."""
    venv = runtime_venv(state)
    sources = {label: deployed_sources(tree, label, state) for label, tree in trees.items()}
    process_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    process_env.pop("PYTHONPATH", None)
    if state == "source":
        process_env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        process_env.pop("PYTHONDONTWRITEBYTECODE", None)
    labels = list(trees)
    for label in labels:  # untimed: the OS file cache warm, the emulators past their first requests
        one_pass(pipeline, venv, sources[label], process_env)
    samples: dict[str, list[dict[str, Answer]]] = {label: [] for label in labels}
    for i in range(runs):
        for label in labels if i % 2 == 0 else reversed(labels):
            samples[label].append(one_pass(pipeline, venv, sources[label], process_env))
    report: dict[str, Any] = {}
    for name in FUNCTIONS:
        row: dict[str, Any] = {}
        for label in labels:
            answers = [s[name] for s in samples[label]]
            row[label] = {
                "first_answer_s": _summary([a.first_answer_s for a in answers]),
                "listening_s": _summary([a.listening_s for a in answers]),
                "cpu_s": _summary([a.cpu_s for a in answers]),
                "rss_mb": round(max(a.rss_mb for a in answers), 1),
            }
            if answers[0].second_request_ms is not None:
                row[label]["then_get_results_ms"] = _summary([a.second_request_ms or 0.0 for a in answers], 1)
        new, old = labels
        ratios = [
            a[name].first_answer_s / b[name].first_answer_s
            for a, b in zip(samples[new], samples[old], strict=True)
        ]
        row["ratio_first_answer"] = round(statistics.median(ratios), 3)
        report[name] = row
    return report


def import_breakdown(runs: int) -> dict[str, dict[str, dict[str, float]]]:
    """The heaviest imports alone, a new process each, in the bytecode venv: wall and CPU seconds."""
    python = runtime_venv("bytecode") / "bin" / "python"
    out = {}
    for label, body in IMPORTS.items():
        wall, cpu = [], []
        for _ in range(runs + 1):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run([str(python), "-c", body], check=True)
            wall.append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        out[label] = {"wall_s": _summary(wall[1:]), "cpu_s": _summary(cpu[1:])}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", default=BASELINE, help="the revision to compare with")
    parser.add_argument("--states", nargs="+", choices=STATES, default=list(STATES))
    args = parser.parse_args()
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    trees = {"this": code_tree(None), "baseline": code_tree(args.baseline)}
    prioritised = claim_a_core()
    report: dict[str, Any] = {
        "what": "new process -> reply to its first real event/request, functions-framework from a "
        "requirements.txt-only venv, real emulators; medians of paired runs",
        "baseline": args.baseline,
        "runs": args.runs,
        "load_average_before": os.getloadavg()[0],
        "nice_minus_10": prioritised,
        "states": {},
    }
    with emulators_with_resources() as env:
        pipeline = Pipeline(env)
        for state in args.states:
            report["states"][state] = compare(state, args.runs, trees, env, pipeline)
            for name, row in report["states"][state].items():
                this, base = row["this"]["first_answer_s"], row["baseline"]["first_answer_s"]
                print(
                    f"{state:8} {name:12} first answer {this['median']:.2f} s (min {this['min']:.2f})"
                    f"  baseline {base['median']:.2f} s (min {base['min']:.2f})"
                    f"  ratio {row['ratio_first_answer']:.2f}  cpu {row['this']['cpu_s']['median']:.2f}"
                    f" vs {row['baseline']['cpu_s']['median']:.2f} s"
                )
    report["imports_alone_bytecode"] = import_breakdown(args.runs)
    for label, figures in report["imports_alone_bytecode"].items():
        print(
            f"  {label:26} {figures['cpu_s']['median']:.2f} s CPU, {figures['wall_s']['median']:.2f} s wall"
        )
    report["load_average_after"] = os.getloadavg()[0]
    save_results(RESULTS, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
