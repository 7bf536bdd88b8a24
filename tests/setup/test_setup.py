"""`make setup`: the venv it builds carries bytecode, and it rewrites no tracked file (issue 12)."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
from pathlib import Path

import pytest

from shared.config import REPO_ROOT

# What every deployed function imports first; without bytecode each process compiles them anew.
HEAVY_IMPORTS = [
    "functions_framework",
    "google.cloud.storage",
    "google.cloud.pubsub_v1",
    "firebase_admin",
    "av",
]


@pytest.mark.parametrize("name", HEAVY_IMPORTS)
def test_installed_packages_have_bytecode(name: str) -> None:
    module = importlib.import_module(name)
    source = Path(module.__file__ or "")
    compiled = Path(importlib.util.cache_from_source(str(source)))
    assert compiled.is_file(), f"{name}: no bytecode at {compiled} (set-up must compile the venv)"


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout


def test_build_output_is_not_tracked() -> None:
    tracked = _git("ls-files").splitlines()
    assert not [p for p in tracked if ".egg-info/" in p or "/node_modules/" in p or p.startswith("dist/")]


def test_setup_installs_lockfiles_as_they_are() -> None:
    """npm install would rewrite package-lock.json; npm ci installs it unchanged."""
    script = (REPO_ROOT / "scripts" / "setup.sh").read_text()
    assert "(cd $dir && npm ci " in script


def test_setup_left_the_lockfiles_unchanged() -> None:
    """Set-up ran before the tests (`make test`): no lockfile differs from what is committed."""
    changed = _git("diff", "--name-only", "HEAD", "--", "*package-lock.json", "*.egg-info").split()
    assert changed == []
