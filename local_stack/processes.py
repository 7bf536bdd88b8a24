"""Child processes of the local stack: free ports, start with a log file, wait, stop by PID."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shared.config import REPO_ROOT

LOCAL_DIR = REPO_ROOT / ".local"
LOG_DIR = LOCAL_DIR / "logs"


class StartupError(RuntimeError):
    """A child process exited or never became ready; the message ends with its log tail."""


def free_port() -> int:
    """A TCP port that was free a moment ago (bind port 0, read it back)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as resp:
            return resp.status < 500
    except urllib.error.HTTPError as err:
        return err.code < 500
    except OSError:
        return False


@dataclass
class Child:
    """One started process: its name (for the log file), command, port and Popen handle."""

    name: str
    popen: subprocess.Popen
    port: int
    log_path: Path
    ready: Callable[[], bool] = field(repr=False, default=lambda: True)
    # What asks it to stop at once: gunicorn takes SIGINT as "quick shutdown" (SIGTERM waits ~1 s).
    stop_signal: int = signal.SIGTERM

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 30.0, interval: float = 0.02) -> None:
        """Poll `ready` until it holds; raise StartupError if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise StartupError(
                    f"{self.name} exited with code {self.popen.returncode}:\n{self.log_tail()}"
                )
            if self.ready():
                return
            time.sleep(interval)
        raise StartupError(f"{self.name} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 5.0) -> None:
        """`stop_signal`, then SIGKILL after `timeout`; always reaps the process."""
        stop_all([self], timeout)


def start(
    name: str,
    argv: Sequence[str],
    port: int,
    ready: Callable[[], bool],
    env: Mapping[str, str] | None = None,
    log_dir: Path = LOG_DIR,
    cwd: Path = REPO_ROOT,
    stop_signal: int = signal.SIGTERM,
) -> Child:
    """Start `argv` with stdout+stderr appended to `<log_dir>/<name>.log` (not waiting for readiness).

    Each child gets its own process group, so a Ctrl-C in the terminal reaches only the
    supervisor, which then stops the children in order.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(os.environ if env is None else env),
            cwd=cwd,
            start_new_session=True,
        )
    return Child(name=name, popen=popen, port=port, log_path=log_path, ready=ready, stop_signal=stop_signal)


def stop_all(children: Sequence[Child], timeout: float = 5.0) -> None:
    """Signal every child at once, wait for all, SIGKILL whatever is left after `timeout`."""
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            child.popen.send_signal(child.stop_signal)
    deadline = time.monotonic() + timeout
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.popen.wait(max(0.0, deadline - time.monotonic()))
    for child in children:
        if child.popen.poll() is None:
            child.popen.kill()
            child.popen.wait()


def stop_pid(pid: int, timeout: float = 5.0) -> None:
    """Stop a process that is not our child, by PID: SIGTERM, wait up to `timeout`, then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    while pid_alive(pid):
        time.sleep(0.02)


def pid_alive(pid: int) -> bool:
    """Whether `pid` still runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
