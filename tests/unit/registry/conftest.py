"""A model registry of its own per test: a local folder holding a copy of the shipped model
(MODEL_URI points at it) and, for tests on the Firestore emulator, a collection of its own
for the pointer document."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from shared.config import BUNDLED_MODEL_DIR, settings
from shared.registry.artifacts import Registry, default_location

NAME = "cough-classifier"
SPEC = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())["features"]


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """`<tmp>/registry/cough-classifier/1.0.0` (a copy of the shipped default) as MODEL_URI."""
    first = add_version(Registry(str(tmp_path / "registry" / NAME), NAME), tmp_path, "1.0.0")
    monkeypatch.setenv("MODEL_URI", str(first))
    monkeypatch.setenv("MODELS_COLLECTION", f"models-{uuid.uuid4().hex[:10]}")
    settings.cache_clear()
    yield default_location().registry
    settings.cache_clear()


def model_folder(tmp_path: Path, version: str, **changes: object) -> Path:
    """A copy of the shipped model as a folder to push, its metadata changed by `changes`."""
    folder = tmp_path / "to-push" / version
    shutil.copytree(
        BUNDLED_MODEL_DIR, folder, ignore=shutil.ignore_patterns("*.keras", "report"), dirs_exist_ok=True
    )
    meta = json.loads((folder / "metadata.json").read_text())
    meta.update({"version": version, **changes})
    (folder / "metadata.json").write_text(json.dumps(meta))
    return folder


def add_version(registry: Registry, tmp_path: Path, version: str, **changes: object) -> Path:
    """Put a version straight into the registry folder (as a push would, without its checks)."""
    folder = model_folder(tmp_path, version, **changes)
    target = Path(registry.root) / version
    shutil.copytree(folder, target)
    return target
