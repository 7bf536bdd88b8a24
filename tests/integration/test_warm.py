"""The warm-up on the running local stack: results_api reaches the functions' local URLs.

The stack's results_api is given PREPROCESS_URL and PREDICT_URL (local_stack/stack.py), so a
POST /warm (or an earlier POST /uploads of this session: one per function per interval)
makes preprocess and predict finish their start-up, which each logs as `warmed_up`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from tests.accounts_support import bearer, new_visitor
from tests.conftest import RunningStack

pytestmark = pytest.mark.integration


def _events(log: str, event: str) -> list[dict]:
    lines = Path(log).read_text(errors="replace").splitlines()
    found = []
    for line in lines:
        if line.startswith("{") and f'"{event}"' in line:
            found.append(json.loads(line))
    return found


def test_warm_reaches_preprocess_and_predict_on_the_stack(stack: RunningStack, env: dict[str, str]) -> None:
    reply = requests.post(
        f"{env['RESULTS_API_URL']}/warm", headers=bearer(new_visitor(env).id_token), timeout=30
    )
    assert reply.status_code == 204
    deadline = time.monotonic() + 60
    logs = {name: stack.child(name)["log"] for name in ("preprocess", "predict", "results_api")}
    while time.monotonic() < deadline:
        if all(_events(logs[name], "warmed_up") for name in ("preprocess", "predict")):
            break
        time.sleep(0.2)
    for name in ("preprocess", "predict"):
        warmed = _events(logs[name], "warmed_up")
        assert warmed, f"{name} logged no warm-up"
        assert warmed[-1]["stage"] == name
    assert _events(logs["results_api"], "warm_up_failed") == []
