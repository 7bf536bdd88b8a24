"""Model folders for registry tests: copies of the shipped model, as pushed or as stored
(the `registry` fixture, in tests/conftest.py, builds a registry of its own per test)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from shared.config import BUNDLED_MODEL_DIR
from shared.registry.artifacts import Registry

NAME = "cough-classifier"
SPEC = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())["features"]


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
