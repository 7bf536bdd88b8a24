"""Give a spawned function the CPU its Cloud instance gets, with a Linux CPU cgroup quota.

On Cloud Run every instance has its own share of a CPU (infra/terraform's sizing: results_api
1 vCPU, preprocess and predict 0.5), so three functions starting at once do not slow
each other down. On this machine they share its cores: when results_api's warm-up starts
preprocess and predict while results_api itself starts, three start-ups compete for two
cores, which Cloud never sees. A CFS quota (`quota / period` = the instance's vCPU) gives
each spawned process, and the workers it forks, what its Cloud instance has: no more (a
0.5-vCPU function starts about twice as slowly as on a full core, as on Cloud), and, while
the quotas add up to no more than the cores, no less. The default sizing's three add up to
exactly this machine's two cores, so while all three start at once the emulators and the
benchmark itself take a little of their share: the figures err on the slow side.

Needs root and a CPU cgroup controller (cgroup v1's `cpu` hierarchy or cgroup v2's `cpu`
controller). A process is moved into its group right after it is spawned: its first
milliseconds (exec) run unthrottled.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PERIOD_US = 100_000
V1 = Path("/sys/fs/cgroup/cpu")
V2 = Path("/sys/fs/cgroup")


class CpuQuotaUnavailable(RuntimeError):
    """No writable CPU cgroup controller here."""


def _root() -> tuple[Path, bool]:
    """The hierarchy to make groups in, and whether it is cgroup v2."""
    if (V1 / "cpu.cfs_quota_us").is_file() and os.access(V1, os.W_OK):
        return V1, False
    controllers = V2 / "cgroup.controllers"
    if controllers.is_file() and "cpu" in controllers.read_text().split() and os.access(V2, os.W_OK):
        return V2, True
    raise CpuQuotaUnavailable(
        "giving each function its Cloud vCPU needs root and a CPU cgroup controller "
        "(/sys/fs/cgroup/cpu or cgroup v2 with cpu); none is writable here"
    )


class CpuQuota:
    """One cgroup holding one spawned function (and its children) to `vcpu` of a core."""

    def __init__(self, name: str, vcpu: float) -> None:
        root, v2 = _root()
        self.path = root / f"coughcloud-bench-{os.getpid()}-{name}-{time.monotonic_ns()}"
        self.path.mkdir()
        quota = int(vcpu * PERIOD_US)
        if v2:
            (self.path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
        else:
            (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def remove(self) -> None:
        """Delete the group once its processes have ended (the kernel refuses while any remain:
        an exited process may take a moment to leave it); an error if it outlasts 2 s."""
        for _ in range(100):
            try:
                self.path.rmdir()
                return
            except OSError:
                time.sleep(0.02)
        self.path.rmdir()
