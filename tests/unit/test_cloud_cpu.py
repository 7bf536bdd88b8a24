"""bench/cloud_cpu.py: a spawned process held to its Cloud vCPU uses no more CPU than that."""

from __future__ import annotations

import subprocess
import sys

from bench.cloud_cpu import CpuQuota

BUSY = """
import os, time
start = time.monotonic()
while time.monotonic() - start < 1.5:
    pass
print(sum(os.times()[:2]))
"""


def test_a_process_in_a_quota_gets_that_share_of_a_core_and_the_group_is_removed() -> None:
    quota = CpuQuota("test", 0.25)
    child = subprocess.Popen([sys.executable, "-c", BUSY], stdout=subprocess.PIPE, text=True)
    try:
        quota.add(child.pid)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        quota.remove()
    # Unlimited, a busy loop of 1.5 s uses about 1.5 s of CPU; held to a quarter core, about 0.4
    # (plus the interpreter's start, which may run before the process joins the group).
    assert float(out) < 0.75
    assert not quota.path.exists()
