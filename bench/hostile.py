"""Hostile uploads against the running local stack, with the time each takes to fail.

    .venv/bin/python -m bench.hostile     # starts a stack of its own; writes bench/results/hostile.json

Every file from bench/hostile_files.py is uploaded with the official Storage client,
under its (possibly hostile) object name. Each must end `failed` with its own code,
on its first attempt (a permanent error is never retried), within 5 s of its upload;
and the stack must still answer /healthz afterwards. Time to failure is the result
document's `updated_at` minus the moment the upload returned (one machine, one clock).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from bench.hostile_files import HostileFile, generate
from bench.stack_io import RESULTS_DIR, Stack, own_stack

TARGET_S = 5.0
WAIT_S = 60.0


@dataclass(frozen=True)
class HostileOutcome:
    file: str
    name: str
    expected: str
    code: str | None
    status: str | None
    attempts: int | None
    seconds_to_final: float | None
    upload_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "failed" and self.code == self.expected and self.attempts == 1


def run_hostile(stack: Stack, folder: Path) -> list[HostileOutcome]:
    """Upload every hostile file, wait for each to end, and report what happened."""
    files = generate(folder)
    uploaded: dict[str, tuple[HostileFile, Any, float]] = {}
    outcomes: list[HostileOutcome] = []
    for item in files:
        try:
            upload = stack.upload(item.name, (folder / item.file).read_bytes(), item.content_type)
        except Exception as error:  # the storage layer refusing a name is an outcome, not a crash
            outcomes.append(
                HostileOutcome(item.file, item.name, item.expected, None, None, None, None, repr(error))
            )
            continue
        uploaded[item.file] = (item, upload, time.time())
    finals = stack.wait_final([upload for _, upload, _ in uploaded.values()], WAIT_S)
    for item, upload, uploaded_at in uploaded.values():
        doc = finals.get(upload.key)
        if doc is None:
            outcomes.append(HostileOutcome(item.file, item.name, item.expected, None, None, None, None))
            continue
        outcomes.append(
            HostileOutcome(
                item.file,
                item.name,
                item.expected,
                (doc.get("error") or {}).get("code"),
                doc.get("status"),
                doc.get("attempts"),
                round(doc["updated_at"].timestamp() - uploaded_at, 3),
            )
        )
    return outcomes


def summary(outcomes: list[HostileOutcome], healthy: bool) -> dict[str, Any]:
    times = [o.seconds_to_final for o in outcomes if o.seconds_to_final is not None]
    return {
        "files": len(outcomes),
        "ended_with_expected_code": sum(o.ok for o in outcomes),
        "refused_by_storage": sum(o.upload_error is not None for o in outcomes),
        "over_target": sum(t > TARGET_S for t in times),
        "max_seconds_to_final": max(times, default=None),
        "median_seconds_to_final": sorted(times)[len(times) // 2] if times else None,
        "healthz_after": healthy,
        "target_s": TARGET_S,
    }


def main() -> int:
    with own_stack("bench-hostile") as stack, tempfile.TemporaryDirectory() as tmp:
        outcomes = run_hostile(stack, Path(tmp))
        healthy = requests.get(f"{stack.api_url}/healthz", timeout=5).ok
    report = {"summary": summary(outcomes, healthy), "outcomes": [asdict(o) for o in outcomes]}
    for o in outcomes:
        mark = "ok " if o.ok else "BAD"
        print(
            f"{mark} {o.file:26} expected {o.expected:18} got {o.code!s:18} "
            f"attempts {o.attempts!s:4} {o.seconds_to_final!s:>7} s {o.upload_error or ''}"
        )
    print(json.dumps(report["summary"], indent=1))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "hostile.json").write_text(json.dumps(report, indent=1))
    s = report["summary"]
    return 0 if s["ended_with_expected_code"] == s["files"] and s["over_target"] == 0 and healthy else 1


if __name__ == "__main__":
    sys.exit(main())
