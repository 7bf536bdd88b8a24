"""Cold start of each deployed function, new process → first answer, this code against a baseline.

    .venv/bin/python -m bench.function_cold_start [--runs N] [--baseline REV] [--states bytecode source]

What a new instance pays before its first event is answered: the interpreter, the
functions-framework server loading the function (Flask, the function module and what it
imports), then the first real event or request, with every client and the model made on
first use. Each function runs as it is deployed: the tree's own `scripts/package.sh`
archive (main.py + shared/ + requirements.txt) unpacked into a directory, served by
`functions-framework --target <name> --source main.py` from a virtualenv holding only
requirements.txt, against the real emulators (Firestore, Pub/Sub, fake-gcs, Firebase Auth;
the model is read from gs:// as on Cloud, the registry's pointer document seeded with it as
champion as Terraform does). The clock runs from spawn until the HTTP reply to the first
event arrives (`subprocess` + `time.perf_counter`); the port opening on the way is
recorded too, as are the CPU seconds the process and gunicorn's worker used until the port
opened and until that reply (/proc/<pid>/stat, in 10 ms ticks: the time one dedicated core
needs, whatever else runs) and the peak RSS (VmHWM of the process or its worker, whichever
is larger, read before it is stopped). Run as root, everything runs at
nice -10, so that the other work on a shared machine pre-empts the timed processes less
(see `claim_a_core`).

The events are the pipeline's own: preprocess gets an `object.v1.finalized` event for a
new upload (named `users/{uid}/…`, as the page's are); predict gets the features message
preprocess published for it; results_api gets `POST /uploads` (the first call of a browser
session), then `GET /results` (timed separately, same process); dead_letter gets a
dead-lettered upload event. Every answer is checked (2xx, and the result document in the
expected state).

Accounts: the Firebase Auth emulator starts once per benchmark run, alongside the other
emulators; each pass signs up a new anonymous visitor through its REST API (untimed) and
sends its ID token as `Authorization: Bearer …` on both results_api calls. This tree
verifies it (`verify_id_token(check_revoked=True)`: firebase_admin.auth imported and its
app made on first use, then the emulator's account lookup) and answers with the name under
`users/{uid}/`, which is checked; the baseline has no accounts and ignores the header (its
reply is checked for 2xx and the name it was sent). So results_api's comparison is not like
for like: "this" includes the token's verification, the baseline verifies nothing. The
JSON says so (`results_api.token_verification`) and separates that cost two ways: per pair,
the first request's extra over the baseline's (spawn → reply minus spawn → port open, wall
and CPU); and `verification_breakdown`, a new process per run that loads what results_api
has loaded when its port opens, then times, in that one process, the import of
firebase_admin.auth, the app's set-up, the first and a second verification, with
`-X importtime`'s largest parts of the import. Against the emulator firebase-admin checks
no signature and fetches neither Google's public keys nor an access token; on Google
Cloud the first verification adds those round trips (not measured here).

Two bytecode states, each with its own venv and unpacked archives:
- `bytecode`: what the Cloud Functions build does (GoogleCloudPlatform/buildpacks, see
  docs/performance.md): dependencies compiled with `compileall --invalidation-mode unchecked-hash`, the
  source with `compileall -f`.
- `source`: no `.pyc` anywhere outside the standard library (a uv install, and
  PYTHONDONTWRITEBYTECODE=1): every process compiles everything it imports.

A/B: the baseline, a revision given as `--baseline REV` (by default the one the last results
recorded, so that a rerun compares with the same code), is taken with `git archive`. Runs
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
from bench.cloud_cpu import CpuQuota
from local_stack import processes, resources
from local_stack.auth_emulator import READY_TIMEOUT_S as AUTH_READY_TIMEOUT_S
from local_stack.auth_emulator import start_auth
from local_stack.emulators import launch_emulators
from local_stack.stack import function_env
from shared.accounts.ownership import user_prefix
from shared.accounts.sign_in import AuthService, Session
from shared.config import REPO_ROOT, Settings, settings
from shared.names import result_key
from shared.pipeline.events import FINALIZED, PUBLISHED

RESULTS = Path(__file__).resolve().parent / "results" / "function_cold_start.json"
WORK = REPO_ROOT / ".local" / "cold-start"
PROBES = Path(__file__).resolve().parent / "probes"
FUNCTIONS = ("preprocess", "predict", "results_api", "dead_letter")
STATES = ("bytecode", "source")
CLIP = REPO_ROOT / "examples" / "wet_cough.wav"
READY_TIMEOUT_S = 60.0
# The heaviest single imports of an instance, each timed alone in a new process.
IMPORTS = {
    "python alone": "pass",
    "functions_framework": "import functions_framework",
    "google.cloud.pubsub_v1": "from google.cloud import pubsub_v1",
    "google.cloud.firestore": "from google.cloud import firestore",
    "google.cloud.storage": "from google.cloud import storage",
    "numpy": "import numpy",
    "soundfile + soxr": "import soundfile, soxr",
    "av (PyAV)": "import av",
    "ai_edge_litert": "from ai_edge_litert.interpreter import Interpreter",
    "firebase_admin.auth": "from firebase_admin import auth",
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
    """The emulators (Auth too) with the stack's buckets, topics, subscriptions, models and signing key.

    The Auth emulator starts first and is waited for last, as in `local_stack.stack`: its
    start (13–30 s of node) overlaps the others' and the resources."""
    config = Settings.from_env()
    log_dir = WORK / "logs"
    auth = start_auth(processes.free_port(), config.GOOGLE_CLOUD_PROJECT, WORK, log_dir)
    try:
        emulators = launch_emulators(config.GOOGLE_CLOUD_PROJECT, config.UPLOAD_BUCKET, log_dir)
    except BaseException:
        auth.stop()
        raise
    try:
        emulators.wait_ready(READY_TIMEOUT_S)
        os.environ.update(emulators.env())
        settings.cache_clear()
        resources.create_buckets(config)
        resources.create_topics_and_subscriptions(config)
        model_uri = resources.upload_shipped_models(config)
        resources.seed_model_pointer(config)  # the first champion, as Terraform seeds it on Cloud
        key = resources.signing_key_file(WORK / "signing-key.json", config.GOOGLE_CLOUD_PROJECT)
        auth.wait_ready(AUTH_READY_TIMEOUT_S)
        yield {
            **function_env(config, emulators, auth, model_uri, key),
            "GOOGLE_CLOUD_PROJECT": config.GOOGLE_CLOUD_PROJECT,
        }
    finally:
        emulators.stop()
        auth.stop()


def has_accounts(tree: Path) -> bool:
    """Whether the tree's results_api wants a Firebase ID token (a baseline from before accounts does not)."""
    return (tree / "shared" / "accounts" / "identity.py").is_file()


@dataclass(frozen=True)
class Answer:
    """One new process's first answer."""

    first_answer_s: float  # spawn → the reply to the first event or request
    listening_s: float  # spawn → its port accepts connections
    second_request_ms: float | None  # results_api: GET /results right after
    cpu_s: float  # user + system of the process and its children, at the first answer
    listening_cpu_s: float  # the same when its port opened: what follows is the first request's
    rss_mb: float


Request = Callable[[str], requests.Response]
Check = Callable[[requests.Response], None]


class Instance:
    """One function in a new `functions-framework` process (as a Cloud instance starts), stopped by PID."""

    def __init__(
        self, venv: Path, source: Path, name: str, env: dict[str, str], vcpu: float | None = None
    ) -> None:
        """`vcpu`: hold the process to that share of a core, as its Cloud instance (bench/cloud_cpu.py)."""
        self.name = name
        self.port = processes.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [str(venv / "bin" / "functions-framework"), "--target", name, "--source", "main.py"]
        argv += ["--host", "127.0.0.1", "--port", str(self.port)]
        self._log = (WORK / "logs" / f"{name}.log").open("ab")
        self.started = time.perf_counter()
        self.quota = CpuQuota(name, vcpu) if vcpu is not None else None
        self.child = subprocess.Popen(argv, cwd=source, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        if self.quota is not None:
            self.quota.add(self.child.pid)

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
        """Stop it (SIGINT, as the local stack does) and wait; its peak RSS in MB.

        Read from /proc before it stops: `wait4`'s ru_maxrss would report this benchmark's own
        RSS instead when it is the larger (Linux keeps the pre-exec high-water mark, which
        is the parent's memory, see exec_mmap)."""
        peak_mb = _tree_peak_rss_kb(self.child.pid) / 1024
        self.child.send_signal(signal.SIGINT)
        os.waitpid(self.child.pid, 0)
        self.child.returncode = 0
        self._log.close()
        if self.quota is not None:
            self.quota.remove()
        return peak_mb


def first_answer(venv: Path, source: Path, name: str, env: dict[str, str], first: Request,
                 second: Request | None = None, check: Check | None = None,
                 check_second: Check | None = None) -> Answer:  # fmt: skip
    """Start one function in a new process and send `first` as soon as its port opens.

    `check` and `check_second` look at the replies (after the clock) beyond their 2xx."""
    instance = Instance(venv, source, name, env)
    try:
        listening = instance.wait_listening()
        listening_cpu = instance.cpu_s()
        reply = first(instance.url)
        answered = time.perf_counter() - instance.started
        cpu = instance.cpu_s()
        _raise_for_status(reply)
        if check is not None:
            check(reply)
        second_ms = None
        if second is not None:
            t = time.perf_counter()
            second_reply = second(instance.url)
            second_ms = (time.perf_counter() - t) * 1000
            _raise_for_status(second_reply)
            if check_second is not None:
                check_second(second_reply)
    finally:
        rss_mb = instance.stop()
    return Answer(answered, listening, second_ms, cpu, listening_cpu, rss_mb)


def _raise_for_status(reply: requests.Response) -> None:
    """raise_for_status with the reply's body in the message (a 401 says why)."""
    if reply.status_code >= 400:
        raise RuntimeError(f"{reply.request.method} {reply.url}: {reply.status_code} {reply.text[:300]}")


def _tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by `pid` and its descendants (gunicorn's worker)."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(stat[11]) + int(stat[12])  # utime, stime (fields 14 and 15)
    seconds = ticks / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that ended meanwhile (its time stays in pid's)
            continue
        for child in children:
            try:
                seconds += _tree_cpu_s(int(child))
            except FileNotFoundError:  # a child that ended meanwhile
                continue
    return seconds


def _tree_peak_rss_kb(pid: int) -> int:
    """The largest VmHWM (peak RSS) among `pid` and its descendants, in kB (0: it has exited)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    peak = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:
            continue
        for child in children:
            peak = max(peak, _tree_peak_rss_kb(int(child)))
    return peak


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
        self.auth = AuthService(env["FIREBASE_API_KEY"], env["FIREBASE_AUTH_EMULATOR_HOST"])

    def visitor(self) -> Session:
        """A new anonymous account on the Auth emulator, as the page makes on a first visit."""
        return self.auth.sign_up_anonymously()

    def status(self, key: str) -> str | None:
        snapshot = self.db.collection(settings().RESULTS_COLLECTION).document(key).get()
        return (snapshot.to_dict() or {}).get("status") if snapshot.exists else None

    def upload(self, uid: str) -> dict[str, Any]:
        """A clip uploaded under `uid`'s prefix, so its result document names that owner."""
        blob = self.bucket.blob(f"{user_prefix(uid)}bench/cold/{uuid.uuid4().hex}.wav")
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

    def api_requests(
        self, visitor: Session, done_name: str, accounts: bool
    ) -> tuple[Request, Request, Check, Check]:
        """POST /uploads for a new name, then GET /results of `visitor`'s finished upload, both
        with the visitor's ID token; and the checks of their replies.

        A tree with accounts must answer with the name under the visitor's prefix (so it
        verified the token: the uid comes from it); the baseline ignores the header and
        answers with the name as sent."""
        name = f"bench/cold/{uuid.uuid4().hex}.wav"
        body = json.dumps({"name": name, "content_type": "audio/wav", "size": 1000}).encode()
        token = {"Authorization": f"Bearer {visitor.id_token}"}
        first = _post("/uploads", {"Content-Type": "application/json", **token}, body)
        expected = user_prefix(visitor.uid) + name if accounts else name

        def check_upload(reply: requests.Response) -> None:
            if reply.json().get("name") != expected:
                raise RuntimeError(f"POST /uploads answered {reply.json()!r}; expected the name {expected!r}")

        def check_result(reply: requests.Response) -> None:
            if reply.json().get("status") != "done":
                raise RuntimeError(f"GET /results answered {reply.json()!r}; expected status done")

        def second(url: str) -> requests.Response:
            return requests.get(url + "/results", params={"name": done_name}, headers=token, timeout=60)

        return first, second, check_upload, check_result


def one_pass(
    pipeline: Pipeline, venv: Path, sources: dict[str, Path], env: dict[str, str], accounts: bool
) -> dict[str, Answer]:
    """Each function once, in a new process, on a new visitor's new upload; every answer checked."""
    answers: dict[str, Answer] = {}
    visitor = pipeline.visitor()
    obj = pipeline.upload(visitor.uid)
    key = result_key(obj["bucket"], obj["name"])
    answers["preprocess"] = first_answer(
        venv, sources["preprocess"], "preprocess", env, pipeline.preprocess_event(obj)
    )
    _expect(pipeline, key, "features_ready")
    answers["predict"] = first_answer(venv, sources["predict"], "predict", env, pipeline.predict_event(key))
    _expect(pipeline, key, "done")
    post, get, check_post, check_get = pipeline.api_requests(visitor, obj["name"], accounts)
    answers["results_api"] = first_answer(
        venv, sources["results_api"], "results_api", env, post, get, check_post, check_get
    )
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


def process_env(state: str, env: dict[str, str]) -> dict[str, str]:
    """What each function's process gets: this process's variables, the emulators', the state's."""
    out = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    out.pop("PYTHONPATH", None)
    if state == "source":
        out["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        out.pop("PYTHONDONTWRITEBYTECODE", None)
    return out


def compare(
    state: str, runs: int, trees: dict[str, Path], sources: dict[str, dict[str, Path]], env: dict[str, str],
    pipeline: Pipeline,
) -> dict:  # fmt: skip
    """Paired runs of every function in both trees in one bytecode state."""
    venv = runtime_venv(state)
    environment = process_env(state, env)
    labels = list(trees)
    accounts = {label: has_accounts(tree) for label, tree in trees.items()}
    for label in labels:  # untimed: the OS file cache warm, the emulators past their first requests
        one_pass(pipeline, venv, sources[label], environment, accounts[label])
    samples: dict[str, list[dict[str, Answer]]] = {label: [] for label in labels}
    loads = []
    for i in range(runs):
        loads.append(os.getloadavg()[0])
        for label in labels if i % 2 == 0 else reversed(labels):
            samples[label].append(one_pass(pipeline, venv, sources[label], environment, accounts[label]))
    loads.append(os.getloadavg()[0])
    report: dict[str, Any] = {
        "load_average": {**_summary(loads, 2), "what": "1-minute, before each paired run and after the last"}
    }
    for name in FUNCTIONS:
        row: dict[str, Any] = {}
        for label in labels:
            answers = [s[name] for s in samples[label]]
            row[label] = {
                "first_answer_s": _summary([a.first_answer_s for a in answers]),
                "listening_s": _summary([a.listening_s for a in answers]),
                "cpu_s": _summary([a.cpu_s for a in answers]),
                "first_request_s": _summary([a.first_answer_s - a.listening_s for a in answers]),
                "first_request_cpu_s": _summary([a.cpu_s - a.listening_cpu_s for a in answers]),
                "rss_mb": round(max(a.rss_mb for a in answers), 1),
            }
            if answers[0].second_request_ms is not None:
                row[label]["then_get_results_ms"] = _summary([a.second_request_ms or 0.0 for a in answers], 1)
        new, old = labels
        pairs = list(zip((s[name] for s in samples[new]), (s[name] for s in samples[old]), strict=True))
        row["ratio_first_answer"] = round(
            statistics.median(a.first_answer_s / b.first_answer_s for a, b in pairs), 3
        )
        if name == "results_api" and accounts[new] and not accounts[old]:
            row["token_verification"] = _verification_extra(pairs)
        report[name] = row
    return report


def _verification_extra(pairs: list[tuple[Answer, Answer]]) -> dict[str, Any]:
    """What results_api's first request costs beyond the baseline's: mostly verifying the token."""
    return {
        "note": "POST /uploads in 'this' verifies the visitor's Firebase ID token (firebase_admin "
        "verify_id_token, check_revoked=True, against the Auth emulator: firebase_admin.auth imported "
        "and its app made on this first use, then the emulator's account lookup); the baseline "
        "(no accounts) ignores the Authorization header and verifies nothing. results_api's figures "
        "compare 'this' WITH token verification against a baseline WITHOUT it.",
        "this_verifies_token": True,
        "baseline_verifies_token": False,
        "first_request_extra_over_baseline": {
            "what": "per pair, (spawn -> reply minus spawn -> port open) of this minus the baseline's; "
            "both first requests also sign an upload URL",
            "wall_s": _summary(
                [(a.first_answer_s - a.listening_s) - (b.first_answer_s - b.listening_s) for a, b in pairs]
            ),
            "cpu_s": _summary(
                [(a.cpu_s - a.listening_cpu_s) - (b.cpu_s - b.listening_cpu_s) for a, b in pairs]
            ),
        },
    }


# The parts a new process pays on its first authenticated request (the second verification is
# what every later request pays: the emulator's account lookup and decoding the token).
FIRST_USE = ("import_firebase_admin_auth", "initialize_app", "first_verification")
IMPORTTIME_FLOOR_MS = 3.0


def verification_breakdown(
    runs: int, source: Path, env: dict[str, str], pipeline: Pipeline
) -> dict[str, Any]:  # fmt: skip
    """Token verification's parts, in new processes that have loaded what results_api has when its
    port opens (the deployed archive, the bytecode venv): wall and CPU seconds of each part in
    one process, medians over `runs` processes (a new visitor each); then `-X importtime`'s
    figures for what `from firebase_admin import auth` adds, medians over `runs` processes."""
    python = str(runtime_venv("bytecode") / "bin" / "python")
    environment = process_env("bytecode", env)
    parts: dict[str, dict[str, list[float]]] = {}
    probe = _probe("verify_token")
    for _ in range(runs + 1):
        visitor = pipeline.visitor()
        out = subprocess.run([python, "-c", probe, visitor.id_token, visitor.uid], cwd=source,
                             env=environment, check=True, capture_output=True, text=True).stdout  # fmt: skip
        for part, clocks in json.loads(out.splitlines()[-1]).items():
            for clock, value in clocks.items():
                parts.setdefault(part, {}).setdefault(clock, []).append(value)
    report: dict[str, Any] = {
        "what": "one new process per run (bytecode venv, deployed results_api archive): import "
        "functions_framework and main (what is loaded when the port opens), then time each part of "
        "verifying a new visitor's ID token, as results_api's first request does, in that process; "
        "medians after one untimed run. Against the Auth emulator: no signature check, no public-key "
        "or access-token fetch (on Google Cloud the first verification adds those round trips).",
        "parts": {
            part: {clock: _summary(values[1:]) for clock, values in clocks.items()}
            for part, clocks in parts.items()
        },
    }
    report["first_use_sum_of_medians"] = {
        clock: round(sum(report["parts"][part][clock]["median"] for part in FIRST_USE), 3)
        for clock in ("wall_s", "cpu_s")
    }
    cumulative: dict[str, list[float]] = {}
    depth: dict[str, int] = {}
    totals = []
    for _ in range(runs):
        argv = [python, "-X", "importtime", "-c", _probe("import_auth_after_main")]
        lines = subprocess.run(argv, cwd=source, env=environment, check=True, capture_output=True, text=True)
        after_main = _imports_after(lines.stderr, "main")
        totals.append(sum(ms for name, ms, d in after_main if d == 0))
        for name, ms, d in after_main:
            cumulative.setdefault(name, []).append(ms)
            depth[name] = d
    medians = {name: statistics.median(values) for name, values in cumulative.items()}
    report["importtime"] = {
        "what": "python -X importtime, what `from firebase_admin import auth` adds after functions_framework "
        f"and main: its total and each module whose cumulative median is >= {IMPORTTIME_FLOOR_MS} ms "
        "(depth 0 = imported by that statement itself; importtime's own overhead inflates these)",
        "total_ms": round(statistics.median(totals), 1),
        "largest_ms": [
            {"module": name, "depth": depth[name], "cumulative_ms": round(ms, 1)}
            for name, ms in sorted(medians.items(), key=lambda item: -item[1])
            if ms >= IMPORTTIME_FLOOR_MS
        ],
    }
    return report


def _probe(name: str) -> str:
    """A script of bench/probes/, run with `-c` in a deployed function's directory (so that
    `import main` is that function's, as a script file would put bench/probes/ first instead)."""
    return (PROBES / f"{name}.py").read_text()


def _imports_after(importtime: str, module: str) -> list[tuple[str, float, int]]:
    """(module, cumulative ms, depth) of every import `-X importtime` reports after the top-level `module`."""
    rows = []
    for line in importtime.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        rows.append((name.strip(), int(cumulative) / 1000, (len(name) - len(name.lstrip()) - 1) // 2))
    ends = [i for i, (name, _, d) in enumerate(rows) if name == module and d == 0]
    return rows[ends[-1] + 1 :] if ends else []


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


def _last_baseline() -> str | None:
    """The baseline revision the last results were measured against, if there are any."""
    try:
        return json.loads(RESULTS.read_text()).get("baseline")
    except (FileNotFoundError, ValueError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--baseline",
        metavar="REV",
        default=_last_baseline(),
        help="the git revision to compare with (default: %(default)s, the one the last results, "
        f"{RESULTS.relative_to(REPO_ROOT)}, were measured against)",
    )
    parser.add_argument("--states", nargs="+", choices=STATES, default=list(STATES))
    args = parser.parse_args()
    if args.baseline is None:
        parser.error(f"--baseline REV is needed: {RESULTS.relative_to(REPO_ROOT)} records none")
    (WORK / "logs").mkdir(parents=True, exist_ok=True)
    trees = {"this": code_tree(None), "baseline": code_tree(args.baseline)}
    prioritised = claim_a_core()
    report: dict[str, Any] = {
        "what": "new process -> reply to its first real event/request, functions-framework from a "
        "requirements.txt-only venv, real emulators; medians of paired runs",
        "baseline": args.baseline,
        "baseline_commit": trees["baseline"].name,
        "runs": args.runs,
        "load_average_before": os.getloadavg()[0],
        "nice_minus_10": prioritised,
        "states": {},
    }
    with emulators_with_resources() as env:
        pipeline = Pipeline(env)
        report["load_average_emulators_ready"] = os.getloadavg()[0]
        for state in args.states:
            sources = {label: deployed_sources(tree, label, state) for label, tree in trees.items()}
            report["states"][state] = compare(state, args.runs, trees, sources, env, pipeline)
            if state == "bytecode" and has_accounts(trees["this"]):
                report["verification_breakdown"] = verification_breakdown(
                    args.runs, sources["this"]["results_api"], env, pipeline
                )
            for name, row in report["states"][state].items():
                if name == "load_average":
                    continue
                this, base = row["this"]["first_answer_s"], row["baseline"]["first_answer_s"]
                print(
                    f"{state:8} {name:12} first answer {this['median']:.2f} s (min {this['min']:.2f})"
                    f"  baseline {base['median']:.2f} s (min {base['min']:.2f})"
                    f"  ratio {row['ratio_first_answer']:.2f}  cpu {row['this']['cpu_s']['median']:.2f}"
                    f" vs {row['baseline']['cpu_s']['median']:.2f} s"
                )
    if "verification_breakdown" in report:
        for part, clocks in report["verification_breakdown"]["parts"].items():
            print(f"  verification: {part:28} {clocks['cpu_s']['median']:.3f} s CPU, "
                  f"{clocks['wall_s']['median']:.3f} s wall")  # fmt: skip
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
