"""Erasure as a property, on the running local stack: for any sequence of uploads (arbitrary
names, as far as the API accepts them; some signed URLs replayed), feedback and deletes by one
visitor, after DELETE /me nothing of the visitor remains: no object under their prefix (every
generation), no result they own or named under their prefix, no finish marker — and nothing
comes back while the pipeline finishes what was in flight.

Few examples (each is a real visitor, real uploads through the pipeline, a real erasure):
about 3–5 s each on the shared machine (`pytest --hypothesis-show-statistics`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from shared.names import result_key
from tests.accounts_support import new_visitor
from tests.fixtures.audio_files import sample_file
from tests.integration.visitors import api, leftovers, markers

pytestmark = pytest.mark.integration

SETTLE_S = 20.0
NOTHING = {"objects": [], "results": []}
PIECES = ["a", "b.wav", "/", ".", "..", " ", "é", "咳", "🎤", "users", "%2F", "\u202e"]
NAMES = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=30),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join),
)


@dataclass(frozen=True)
class Upload:
    name: str
    replay: bool


@dataclass(frozen=True)
class Feedback:
    which: int


@dataclass(frozen=True)
class Delete:
    which: int


OPERATIONS = st.lists(
    st.one_of(
        st.builds(Upload, NAMES, st.booleans()),
        st.builds(Feedback, st.integers(0, 5)),
        st.builds(Delete, st.integers(0, 5)),
    ),
    min_size=1,
    max_size=6,
)


@pytest.fixture(scope="module")
def clip() -> bytes:
    return sample_file("wav_pcm16", 0.5, 16_000, seed=41)


def _run(env: dict[str, str], visitor: Any, operations: list[Any], clip: bytes) -> list[str]:
    """Carry the operations out as the page (or a hostile client) would; the full names used."""
    names: list[str] = []
    for operation in operations:
        if isinstance(operation, Upload):
            body = {"name": operation.name, "content_type": "audio/wav", "size": len(clip)}
            signed = api(env, "POST", "/uploads", visitor, json=body)
            assert signed.status_code in (200, 400, 403), signed.text
            if signed.status_code != 200:
                continue
            signed = signed.json()
            names.append(signed["name"])
            for _ in range(2 if operation.replay else 1):
                put = requests.put(signed["url"], data=clip, headers=signed["headers"], timeout=10)
                assert put.ok or put.status_code == 412, put.text
        elif names:
            name = names[operation.which % len(names)]
            if isinstance(operation, Feedback):
                reply = api(
                    env, "POST", "/results/feedback", visitor, json={"name": name, "label": "not_cough"}
                )
                # 400 only for a result the model has not answered yet (still being processed).
                unanswered = reply.status_code == 400 and "no answer from a model" in reply.text
                assert reply.status_code in (200, 404) or unanswered, reply.text
            else:
                reply = api(env, "DELETE", "/results", visitor, params={"name": name})
                assert reply.status_code in (204, 404), reply.text
    return names


def _nothing_left(env: dict[str, str], uid: str, names: list[str]) -> bool:
    keys = [result_key(env["UPLOAD_BUCKET"], name) for name in names]
    return leftovers(env, uid) == NOTHING and not any(markers(env, key) for key in keys)


@hypothesis_settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(operations=OPERATIONS)
def test_after_delete_me_nothing_of_the_visitor_remains(env: dict[str, str], clip: bytes, operations) -> None:
    visitor = new_visitor(env)
    names = _run(env, visitor, operations, clip)
    assert api(env, "DELETE", "/me", visitor).status_code == 204
    deadline = time.monotonic() + SETTLE_S
    while not _nothing_left(env, visitor.uid, names):
        assert time.monotonic() < deadline, (leftovers(env, visitor.uid), names)
        time.sleep(0.2)
    time.sleep(2.0)  # what was still in the pipeline has finished, and re-created nothing
    assert leftovers(env, visitor.uid) == NOTHING
    assert _nothing_left(env, visitor.uid, names)
