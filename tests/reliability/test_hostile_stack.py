"""Hostile uploads through the real local stack (bench/hostile.py's run, as a test).

Each file ends `failed` with its own code on its first attempt (a permanent error is not
retried), the stack still answers afterwards, and the uploads bucket holds exactly what
was uploaded: no function wrote anything into it. Time to failure is measured by
`python -m bench.hostile`, not asserted here.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from bench.hostile import HostileOutcome, run_hostile
from bench.stack_io import Stack
from shared.config import settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hostile_run(
    stack: Any, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Stack, list[HostileOutcome], set[str]]:
    with pytest.MonkeyPatch.context() as patch:
        for key, value in stack.env.items():
            patch.setenv(key, value)
        settings.cache_clear()
        client = Stack(dict(stack.env))
        before = set(client.object_names())
        outcomes = run_hostile(client, tmp_path_factory.mktemp("hostile"))
        added = set(client.object_names()) - before
    settings.cache_clear()
    return client, outcomes, added


def test_every_hostile_upload_fails_with_its_code_on_the_first_attempt(hostile_run) -> None:
    _, outcomes, _ = hostile_run
    wrong = [o for o in outcomes if o.upload_error is None and not o.ok]
    assert wrong == []
    assert sum(o.upload_error is None for o in outcomes) >= 40


def test_the_stack_stays_up(hostile_run) -> None:
    client, _, _ = hostile_run
    assert requests.get(f"{client.api_url}/healthz", timeout=5).json() == {"status": "ok"}


def test_the_uploads_bucket_holds_only_what_was_uploaded(hostile_run) -> None:
    _, outcomes, added = hostile_run
    uploaded = {o.name for o in outcomes if o.upload_error is None}
    assert added == uploaded
