"""The supervisor behind `coughcloud up` / `make run`: starts, watches and stops the local stack.

Start order (each step as early as it can, the slow ones overlapping): the Auth emulator
(the slowest, 13–18 s), the three other emulators and the four function servers at once
(importing the functions is most of the rest) → once the emulators answer, the buckets,
topics, subscriptions, the model copy and the signing key → the Eventarc bridge and the
page server → wait until every function answers, then the Auth emulator → write
`stack.json` and `stack.env`. Stop: the bridge, then the functions, then the emulators,
every child by PID; `stack.env` exists only while the stack is up and ready.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_stack import processes, resources
from local_stack.auth_emulator import READY_TIMEOUT_S as AUTH_READY_TIMEOUT_S
from local_stack.auth_emulator import auth_env, start_auth
from local_stack.emulators import Emulators, launch_emulators
from local_stack.frontend import FrontendServer, firebase_web_config
from local_stack.functions import FUNCTIONS, start_function
from local_stack.processes import LOCAL_DIR, Child, StartupError
from local_stack.stack_env import write_stack_env
from shared.config import BUNDLED_MODEL_DIR, REPO_ROOT, Settings, settings

READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class StackOptions:
    state_dir: Path = LOCAL_DIR
    # Origins allowed by results_api besides the page's own (CORS_ALLOWED_ORIGINS adds more).
    extra_cors_origins: tuple[str, ...] = ()
    retry_base_s: float = 0.5
    retry_max_s: float = 10.0
    # MODEL_POINTER_TTL_S for the functions (None: the default); tests shorten it.
    pointer_ttl_s: float | None = None
    # A model folder to serve as the champion (`up --model DIR`); None: the shipped versions.
    model_dir: Path | None = None
    # Request threads per function process (functions-framework's gunicorn THREADS; None: its
    # default, 4 per CPU). Cloud Run with concurrency N sends up to N requests at once.
    threads: int | None = None

    @property
    def stack_env(self) -> Path:
        return self.state_dir / "stack.env"

    @property
    def state_file(self) -> Path:
        """JSON: the supervisor's PID, every child's name/PID/port/log, and the env."""
        return self.state_dir / "stack.json"

    @property
    def pid_file(self) -> Path:
        """The supervisor's PID while it runs."""
        return self.state_dir / "stack.pid"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def argv(self) -> list[str]:
        """The `coughcloud up` arguments that recreate these options (for --detach)."""
        args = ["--state-dir", str(self.state_dir), "--retry-base", str(self.retry_base_s)]
        args += ["--retry-max", str(self.retry_max_s)]
        for origin in self.extra_cors_origins:
            args += ["--cors-origin", origin]
        if self.pointer_ttl_s is not None:
            args += ["--pointer-ttl", str(self.pointer_ttl_s)]
        if self.model_dir is not None:
            args += ["--model", str(self.model_dir)]
        if self.threads is not None:
            args += ["--threads", str(self.threads)]
        return args


@dataclass
class Stack:
    """A running stack, owned by this process."""

    options: StackOptions
    env: dict[str, str]
    emulators: Emulators
    auth: Child
    functions: dict[str, Child]
    bridge: Child
    frontend: FrontendServer
    phases_s: dict[str, float] = field(default_factory=dict)

    @property
    def children(self) -> list[Child]:
        """In stopping order: the bridge, the functions, then the emulators."""
        return [self.bridge, *self.functions.values(), *reversed(self.emulators.children), self.auth]

    def state(self) -> dict[str, Any]:
        return {
            "supervisor": os.getpid(),
            "children": [
                {
                    "name": c.name,
                    "pid": c.pid,
                    "port": c.port,
                    "log": str(c.log_path),
                    "cmdline": _cmdline(c.pid),
                }
                for c in self.children
            ],
            "env": self.env,
            "phases_s": self.phases_s,
        }

    def stop(self) -> None:
        """The bridge first (no delivery to a stopping function), then the functions, then the emulators."""
        self.options.stack_env.unlink(missing_ok=True)
        self.bridge.stop()
        processes.stop_all(list(self.functions.values()))
        self.emulators.stop()
        self.auth.stop()
        self.frontend.stop()
        self.options.state_file.unlink(missing_ok=True)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def function_env(config: Settings, emulators: Emulators, auth: Child, model_uri: str, key: Path) -> dict:
    """What a function process is given locally: the emulators, the resources' names, the model."""
    return {
        **emulators.env(),
        **auth_env(auth.port),
        "UPLOAD_BUCKET": config.UPLOAD_BUCKET,
        "MODEL_BUCKET": config.MODEL_BUCKET,
        "FEATURES_TOPIC": config.FEATURES_TOPIC,
        "RESULTS_TOPIC": config.RESULTS_TOPIC,
        "UPLOADS_DEAD_LETTER_TOPIC": config.UPLOADS_DEAD_LETTER_TOPIC,
        "FEATURES_DEAD_LETTER_TOPIC": config.FEATURES_DEAD_LETTER_TOPIC,
        "MODEL_URI": model_uri,
        "SIGNING_KEY_FILE": str(key),
    }


def _stack_env(
    config: Settings, emulators: Emulators, auth: Child, urls: dict[str, str], model_uri: str, key: Path
) -> dict:
    return {
        **function_env(config, emulators, auth, model_uri, key),
        "RESULTS_API_URL": urls["results_api"],
        "FRONTEND_URL": urls["frontend"],
        "PREPROCESS_URL": urls["preprocess"],
        "PREDICT_URL": urls["predict"],
        # The stack starts every function at once: a warm-up as results_api starts would race
        # their ports. POST /warm and POST /uploads still warm them.
        "WARM_UP_ON_START": "0",
        "DEAD_LETTER_URL": urls["dead_letter"],
    }


def start_stack(options: StackOptions) -> Stack:
    """Start everything and return once every part answers; on any failure stop what started.

    The function servers start first: importing them is most of the start-up time, and
    it overlaps the emulators' start and the resources (their clients connect lazily).
    """
    t0 = time.monotonic()
    phases: dict[str, float] = {}
    options.state_dir.mkdir(parents=True, exist_ok=True)
    options.stack_env.unlink(missing_ok=True)
    config = Settings.from_env()
    model_dir = options.model_dir or BUNDLED_MODEL_DIR
    if options.model_dir is not None:
        resources.check_model_dir(options.model_dir)
    auth = start_auth(processes.free_port(), config.GOOGLE_CLOUD_PROJECT, options.state_dir, options.log_dir)
    try:
        emulators = launch_emulators(config.GOOGLE_CLOUD_PROJECT, config.UPLOAD_BUCKET, options.log_dir)
    except BaseException:
        auth.stop()
        raise
    started: list[Child] = [auth]
    frontend: FrontendServer | None = None
    try:
        ports = {name: processes.free_port() for name in (*FUNCTIONS, "frontend")}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        key = options.state_dir / "signing-key.json"
        env = _stack_env(config, emulators, auth, urls, resources.model_uri(config, model_dir), key)
        if options.pointer_ttl_s is not None:
            env["MODEL_POINTER_TTL_S"] = str(options.pointer_ttl_s)
        if options.threads is not None:
            env["THREADS"] = str(options.threads)
        # The page's own origin, under either of the names a person may type for it.
        page = [urls["frontend"], urls["frontend"].replace("127.0.0.1", "localhost")]
        origins = [*page, *options.extra_cors_origins, *config.cors_origins]
        function_env = {**os.environ, **env, "CORS_ALLOWED_ORIGINS": ",".join(dict.fromkeys(origins))}
        functions = {
            name: start_function(name, ports[name], function_env, options.log_dir) for name in FUNCTIONS
        }
        started += functions.values()

        emulators.wait_ready(READY_TIMEOUT_S)
        phases["emulators_ready"] = time.monotonic() - t0
        os.environ.update(emulators.env())  # this process's clients make the resources
        settings.cache_clear()
        resources.create_buckets(config)
        resources.create_topics_and_subscriptions(config)
        if options.model_dir is None:
            resources.upload_shipped_models(config)
        else:
            resources.upload_model(config, options.model_dir)
        resources.seed_model_pointer(config, model_dir)
        resources.signing_key_file(key, config.GOOGLE_CLOUD_PROJECT)
        phases["resources_made"] = time.monotonic() - t0

        bridge_argv = [sys.executable, "-m", "local_stack.bridge"]
        bridge_argv += [f"--target={name}={urls[name]}" for name in ("preprocess", "predict", "dead_letter")]
        bridge_argv += ["--retry-base", str(options.retry_base_s), "--retry-max", str(options.retry_max_s)]
        bridge = processes.start(
            "bridge", bridge_argv, 0, lambda: True, env=function_env, log_dir=options.log_dir
        )
        started.append(bridge)
        frontend = FrontendServer(ports["frontend"], urls["results_api"], firebase_web_config(env))
        frontend.start()

        for child in functions.values():
            child.wait_ready(READY_TIMEOUT_S)
        phases["functions_ready"] = time.monotonic() - t0
        auth.wait_ready(AUTH_READY_TIMEOUT_S)
        phases["auth_ready"] = phases["total"] = time.monotonic() - t0
    except BaseException:
        processes.stop_all(started)
        if frontend is not None:
            frontend.stop()
        emulators.stop()
        raise
    stack = Stack(options, env, emulators, auth, functions, bridge, frontend, phases)
    options.state_file.write_text(json.dumps(stack.state(), indent=2))
    write_stack_env(options.stack_env, env)
    return stack


def banner(stack: Stack) -> str:
    env = stack.env
    marks = stack.phases_s
    phases = (
        f"emulators ready at {marks['emulators_ready']:.1f} s, resources made at "
        f"{marks['resources_made']:.1f} s, functions ready at {marks['functions_ready']:.1f} s, "
        f"auth emulator ready at {marks['auth_ready']:.1f} s"
    )
    example = next(iter(sorted((REPO_ROOT / "examples").glob("*.wav"))), Path("cough.wav"))
    rel_env = os.path.relpath(stack.options.stack_env)
    cli = os.path.relpath(Path(sys.executable).parent / "coughcloud")
    return "\n".join(
        [
            f"CoughCloud local stack is up in {stack.phases_s['total']:.1f} s ({phases})",
            f"  upload page   {env['FRONTEND_URL']}",
            f"  results API   {env['RESULTS_API_URL']}  (GET /results?name=…, POST /uploads, /openapi.json)",
            f"  storage       {env['STORAGE_EMULATOR_HOST']}  bucket {env['UPLOAD_BUCKET']}",
            f"  pubsub        {env['PUBSUB_EMULATOR_HOST']}  results on topic {env['RESULTS_TOPIC']}",
            f"  firestore     {env['FIRESTORE_EMULATOR_HOST']}",
            f"  model         {env['MODEL_URI']}  (the champion)",
            f"  auth          {env['FIREBASE_AUTH_EMULATOR_HOST']}  (Firebase Auth emulator)",
            f"  endpoints     {rel_env}  (set -a; . {rel_env}; set +a)",
            f"  logs          {os.path.relpath(stack.options.log_dir)}/",
            f"Try: {cli} upload {os.path.relpath(example)} --wait",
            f"Then: {cli} stats --minutes 15  (counts, latency percentiles, labels; --plot DIR for PNGs)",
            f"Models: {cli} models list  (push, canary, shadow, promote, rollback: no restart needed)",
            "Ctrl-C stops everything.",
        ]
    )


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def run_foreground(options: StackOptions) -> int:
    """`coughcloud up`: start, print the banner, watch the children until SIGINT/SIGTERM, stop."""
    running = supervisor_pid(options)
    if running not in (None, os.getpid()):  # with --detach, the pid file already names us
        print(f"coughcloud up: a stack is already running here (PID {running})", file=sys.stderr)
        return 1
    options.state_dir.mkdir(parents=True, exist_ok=True)
    options.pid_file.write_text(str(os.getpid()))
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    try:
        stack = start_stack(options)
    except StartupError as error:
        print(f"coughcloud up: {error}", file=sys.stderr)
        options.pid_file.unlink(missing_ok=True)
        return 1
    except KeyboardInterrupt:
        options.pid_file.unlink(missing_ok=True)
        return 130
    print(banner(stack), flush=True)
    reported: set[str] = set()
    try:
        while True:
            time.sleep(0.5)
            for child in stack.children:
                code = child.popen.poll()
                if code is not None and child.name not in reported:
                    reported.add(child.name)
                    print(f"{child.name} exited with code {code}; see {child.log_path}", flush=True)
    except KeyboardInterrupt:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("stopping…", flush=True)
        stack.stop()
        options.pid_file.unlink(missing_ok=True)
        print("stopped.", flush=True)
    return 0


def read_state(options: StackOptions) -> dict[str, Any] | None:
    try:
        return json.loads(options.state_file.read_text())
    except (OSError, ValueError):
        return None


def supervisor_pid(options: StackOptions) -> int | None:
    """The PID of a running supervisor for this state dir, if any."""
    try:
        pid = int(options.pid_file.read_text())
    except (OSError, ValueError):
        return None
    return pid if processes.pid_alive(pid) else None


def start_detached(
    options: StackOptions, timeout: float = READY_TIMEOUT_S + AUTH_READY_TIMEOUT_S
) -> dict[str, Any]:
    """`coughcloud up --detach`: run the supervisor in the background; return its state once ready."""
    if (pid := supervisor_pid(options)) is not None:
        raise StartupError(f"a stack is already running (PID {pid}); `coughcloud down` stops it")
    options.state_dir.mkdir(parents=True, exist_ok=True)
    options.log_dir.mkdir(parents=True, exist_ok=True)
    options.stack_env.unlink(missing_ok=True)
    log_path = options.log_dir / "stack.log"
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            [sys.executable, "-m", "coughcloud.cli", "up", *options.argv()],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=REPO_ROOT,
        )
    options.pid_file.write_text(str(popen.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-20:])
            raise StartupError(f"the stack exited with code {popen.returncode}:\n{tail}")
        state = read_state(options)
        if options.stack_env.exists() and state and state.get("supervisor") == popen.pid:
            return state
        time.sleep(0.05)
    stop_detached(options)
    raise StartupError(f"the stack was not ready after {timeout:.0f} s; see {log_path}")


def stop_detached(options: StackOptions, timeout: float = 20.0) -> bool:
    """`coughcloud down`: stop the background supervisor, then any child it left behind."""
    state = read_state(options)
    pid = supervisor_pid(options)
    stopped = pid is not None
    if pid is not None:
        processes.stop_pid(pid, timeout)
    for child in (state or {}).get("children", []):
        # Only a process that is still the one recorded (PIDs get reused).
        if processes.pid_alive(child["pid"]) and _cmdline(child["pid"]) == child["cmdline"]:
            processes.stop_pid(child["pid"])
            stopped = True
    for path in (options.stack_env, options.state_file, options.pid_file):
        path.unlink(missing_ok=True)
    return stopped
