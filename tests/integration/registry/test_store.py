"""shared/registry/store.py on the Firestore emulator: the seed `coughcloud up` writes, and history."""

from __future__ import annotations

import pytest

from local_stack.resources import seed_model_pointer
from shared.config import BUNDLED_MODEL_DIR, Settings, settings
from shared.registry import pointer, store
from shared.registry.artifacts import Registry
from tests.registry_support import NAME

pytestmark = pytest.mark.integration


def test_the_stack_seeds_the_shipped_model_once_and_never_overwrites(
    emulators: object, registry: Registry
) -> None:
    config = Settings.from_env()
    assert seed_model_pointer(config) is True
    seeded = store.read_pointer(NAME)
    assert (seeded.champion, seeded.previous, seeded.canary, seeded.shadow) == (
        BUNDLED_MODEL_DIR.name,
        None,
        None,
        None,
    )
    store.change_pointer(NAME, "promote", lambda p: pointer.promote(p, "2.0.0"), "-", "someone")
    assert seed_model_pointer(config) is False  # a restarted stack keeps what the CLI set
    assert store.read_pointer(NAME).champion == "2.0.0"
    [seed, promote] = store.history(NAME)
    assert (seed["action"], seed["who"], seed["from"], seed["to"]["champion"]) == (
        "seed", "coughcloud up", None, BUNDLED_MODEL_DIR.name)  # fmt: skip
    assert (promote["who"], promote["from"]["champion"], promote["to"]["champion"]) == (
        "someone", BUNDLED_MODEL_DIR.name, "2.0.0")  # fmt: skip
    assert settings().MODELS_COLLECTION != Settings.MODELS_COLLECTION  # the test's own collection
