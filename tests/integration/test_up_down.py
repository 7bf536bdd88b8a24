"""`coughcloud up --detach` / `down`, and Ctrl-C on the supervisor, leave no process behind."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from local_stack.processes import pid_alive
from tests.integration.support import coughcloud

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _parent(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def descendants(root: int) -> set[int]:
    """Every live process below `root` (children start in their own sessions, but stay its children)."""
    parents = {int(p.name): _parent(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()}
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _up(state_dir: Path) -> tuple[int, set[int]]:
    started = coughcloud("up", "--detach", "--state-dir", str(state_dir))
    assert started.returncode == 0, started.stdout + started.stderr
    state = json.loads((state_dir / "stack.json").read_text())
    supervisor = state["supervisor"]
    below = descendants(supervisor)
    # the bridge, four functions (plus their gunicorn workers), three emulators and the Auth emulator
    assert {c["pid"] for c in state["children"]} <= below
    assert len(state["children"]) == 9
    return supervisor, below


def _all_gone(pids: set[int], timeout: float = 20.0) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    return {p for p in pids if pid_alive(p)}


def test_down_stops_every_process_and_removes_stack_env(tmp_path):
    supervisor, below = _up(tmp_path)
    assert coughcloud("up", "--detach", "--state-dir", str(tmp_path)).returncode == 1  # one per state dir

    stopped = coughcloud("down", "--state-dir", str(tmp_path))

    assert stopped.returncode == 0
    assert _all_gone({supervisor, *below}) == set()
    assert not (tmp_path / "stack.env").exists()
    assert "no stack was running" in coughcloud("down", "--state-dir", str(tmp_path)).stdout


def test_ctrl_c_on_the_supervisor_stops_everything(tmp_path):
    supervisor, below = _up(tmp_path)

    os.kill(supervisor, signal.SIGINT)  # what Ctrl-C in `make run`'s terminal sends

    assert _all_gone({supervisor, *below}) == set()
    assert not (tmp_path / "stack.env").exists()
    assert "stopped." in (tmp_path / "logs" / "stack.log").read_text()
