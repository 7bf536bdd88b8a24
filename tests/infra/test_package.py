"""`make package`: each archive holds its function as main.py, shared/ and requirements.txt only."""

from __future__ import annotations

import ast
import hashlib
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.infra.terraform import REPO, deployed_functions

# Training/reference-only packages: the deployed functions must not import them (docs/design/ml-stack.md).
HEAVY = {"tensorflow", "keras", "librosa", "numba", "matplotlib", "sklearn", "pytest", "hypothesis"}
# Repo folders that are not deployed.
NOT_DEPLOYED = {"functions", "training", "local_stack", "coughcloud", "tests", "bench", "models", "infra"}


def package(out_dir: Path) -> dict[str, Path]:
    subprocess.run(
        ["bash", str(REPO / "scripts" / "package.sh"), str(out_dir)], check=True, capture_output=True
    )
    return {p.stem: p for p in out_dir.glob("*.zip")}


@pytest.fixture(scope="module")
def archives(tmp_path_factory) -> dict[str, Path]:
    return package(tmp_path_factory.mktemp("dist"))


def test_there_is_one_archive_per_deployed_function(archives):
    assert set(archives) == set(deployed_functions())


def test_an_archive_holds_main_shared_and_requirements_only(archives):
    shared = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "shared").rglob("*.py"))
    for name, archive in archives.items():
        with zipfile.ZipFile(archive) as zf:
            entries = zf.namelist()
            assert entries == sorted(entries), "entries must be sorted (deterministic archive)"
            assert sorted(entries) == sorted(["main.py", "requirements.txt", *shared])
            assert zf.read("main.py") == (REPO / "functions" / f"{name}.py").read_bytes()
            assert zf.read("requirements.txt") == (REPO / "requirements.txt").read_bytes()
            assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_archives_are_byte_for_byte_reproducible(archives, tmp_path):
    again = package(tmp_path)
    digest = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in archives.items()}
    assert digest == {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in again.items()}


def _top_level_imports(source: str) -> set[str]:
    """Packages imported at module level (imports inside functions are lazy and not counted)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_deployed_code_imports_no_training_packages_and_nothing_left_out(archives):
    for archive in archives.values():
        with zipfile.ZipFile(archive) as zf:
            for entry in zf.namelist():
                if entry.endswith(".py"):
                    imported = _top_level_imports(zf.read(entry).decode())
                    assert not imported & HEAVY, (archive.name, entry, imported & HEAVY)
                    assert not imported & NOT_DEPLOYED, (archive.name, entry, imported & NOT_DEPLOYED)


def test_runtime_requirements_carry_no_training_packages():
    lines = (REPO / "requirements.txt").read_text().splitlines()
    names = {
        line.split("==")[0].split(">=")[0].strip().lower()
        for line in lines
        if line and not line.startswith("#")
    }
    assert not names & HEAVY
