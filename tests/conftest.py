"""Session fixtures shared by every test directory.

`emulators`: the three emulators on free ports, their variables exported in this process.
`auth_emulator`: the Firebase Auth emulator (13–18 s to start, so only tests that need it).
`stack`: the whole local stack, started as `coughcloud up --detach` starts it.
`own_model_stack`: another, serving a model with other labels (`coughcloud up --model DIR`).
They stop every process they started (by PID) at the end of the session.
`registry`: a model registry of its own per test (no emulator needed unless the test reads its
pointer document).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from google.cloud import storage

from local_stack.auth_emulator import READY_TIMEOUT_S, auth_env, start_auth
from local_stack.emulators import Emulators, start_emulators
from local_stack.processes import LOCAL_DIR, Child, free_port
from local_stack.stack import StackOptions, start_detached, stop_detached, supervisor_pid
from shared.config import settings
from shared.registry.artifacts import Registry, default_location
from tests.registry_support import NAME, add_version

TEST_LOG_DIR = LOCAL_DIR / "test-logs"
# Each session's stack lives apart from a developer's `make run` and from other sessions
# running at the same time (its own stack.env, logs, PIDs).
TEST_STACKS = LOCAL_DIR / "test-stacks"
TEST_STACK = StackOptions(
    state_dir=TEST_STACKS / str(os.getpid()),
    extra_cors_origins=("http://allowed.example",),
    retry_base_s=0.25,
    retry_max_s=2.0,
    pointer_ttl_s=1.0,  # model lifecycle tests see a change within a second
    threads=8,  # requests at once per function process (the thread-safety test relies on it)
)


def _export(env: Mapping[str, str]) -> dict[str, str | None]:
    """Set `env` in os.environ; return the previous values for `_restore`."""
    previous = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    settings.cache_clear()
    return previous


def _restore(previous: Mapping[str, str | None]) -> None:
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    settings.cache_clear()


@pytest.fixture(scope="session")
def emulators() -> Iterator[Emulators]:
    """Storage, Pub/Sub and Firestore emulators; GOOGLE_CLOUD_PROJECT and the *_EMULATOR_HOST set."""
    config = settings()
    started = start_emulators(config.GOOGLE_CLOUD_PROJECT, config.UPLOAD_BUCKET, log_dir=TEST_LOG_DIR)
    previous = _export(started.env())
    try:
        yield started
    finally:
        _restore(previous)
        started.stop()


@pytest.fixture(scope="session")
def auth_emulator(emulators: Emulators) -> Iterator[dict[str, str]]:
    """The Auth emulator for this session's project; FIREBASE_AUTH_EMULATOR_HOST and the key exported."""
    state_dir = TEST_LOG_DIR / f"auth-{os.getpid()}"
    child = start_auth(free_port(), emulators.project, state_dir, TEST_LOG_DIR)
    try:
        child.wait_ready(READY_TIMEOUT_S)
        env = auth_env(child.port)
        previous = _export(env)
        try:
            yield env
        finally:
            _restore(previous)
    finally:
        child.stop()
        shutil.rmtree(state_dir, ignore_errors=True)


@dataclass
class RunningStack:
    """The session's stack: `env` as in its stack.env, `state` as in its stack.json."""

    env: dict[str, str]
    state: dict[str, Any]
    options: StackOptions
    # Processes a test started in place of the stack's own (a restarted emulator), stopped last.
    adopted: list[Child] = field(default_factory=list)

    def child(self, name: str) -> dict[str, Any]:
        """name, pid, port, log and cmdline of one of the stack's processes."""
        return next(c for c in self.state["children"] if c["name"] == name)


def _clean_up_abandoned_stacks() -> None:
    """Stop what interrupted sessions left behind: stacks whose supervisor is gone."""
    for state_dir in TEST_STACKS.glob("*"):
        options = StackOptions(state_dir=state_dir)
        if supervisor_pid(options) is None:
            stop_detached(options)
            shutil.rmtree(state_dir, ignore_errors=True)


def _running(options: StackOptions) -> Iterator[RunningStack]:
    """A stack started as `coughcloud up --detach` does; `coughcloud down` at the end."""
    _clean_up_abandoned_stacks()
    state = start_detached(options)
    running = RunningStack(env=dict(state["env"]), state=state, options=options)
    try:
        yield running
    finally:
        stop_detached(options)
        for child in running.adopted:
            child.stop()
        shutil.rmtree(options.state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    """The whole local stack, serving the shipped model."""
    yield from _running(TEST_STACK)


@pytest.fixture(scope="session")
def own_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/fixtures/own_model.py's model (other labels, another name), built in a process of its
    own so that TensorFlow stays out of this one."""
    from tests.fixtures.own_model import build_in_subprocess

    return build_in_subprocess(tmp_path_factory.mktemp("own-model"))


@pytest.fixture(scope="session")
def own_model_stack(own_model_dir: Path) -> Iterator[RunningStack]:
    """A second stack, started as `coughcloud up --detach --model DIR` does, serving that model."""
    state_dir = TEST_STACKS / f"{os.getpid()}-own-model"
    yield from _running(replace(TEST_STACK, state_dir=state_dir, model_dir=own_model_dir))


@pytest.fixture
def env(stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The stack's stack.env, exported for this test (official clients read it at creation)."""
    for key, value in stack.env.items():
        monkeypatch.setenv(key, value)
    settings.cache_clear()
    yield stack.env
    settings.cache_clear()


@pytest.fixture
def bucket(env: dict[str, str]) -> storage.Bucket:
    return storage.Client().bucket(env["UPLOAD_BUCKET"])


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """`<tmp>/registry/cough-classifier/1.0.0` (a copy of the shipped default) as MODEL_URI, and
    a collection of its own for the pointer document (on the Firestore emulator, when used)."""
    first = add_version(Registry(str(tmp_path / "registry" / NAME), NAME), tmp_path, "1.0.0")
    monkeypatch.setenv("MODEL_URI", str(first))
    monkeypatch.setenv("MODELS_COLLECTION", f"models-{uuid.uuid4().hex[:10]}")
    settings.cache_clear()
    yield default_location().registry
    settings.cache_clear()
