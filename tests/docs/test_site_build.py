"""`make docs` fails on a broken link and on a page the nav names that does not exist.

The site's files are copied to a temporary folder (the build hooks are linked, so the pages
generated from the code are the real ones), one fault is put in, and the Makefile's own
`docs` command builds it. No emulator needed; each build takes several seconds.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from shared.config import REPO_ROOT


def makefile_docs_command() -> tuple[dict[str, str], list[str]]:
    """The `docs` target's recipe, as environment variables and arguments."""
    lines = (REPO_ROOT / "Makefile").read_text().splitlines()
    recipe = lines[lines.index("docs: setup") + 1].strip().replace("$(VENV)", str(REPO_ROOT / ".venv"))
    words = shlex.split(recipe)
    env = dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
    return env, [word for word in words if word.split("=", 1)[0] not in env]


def broken_link(site: Path) -> None:
    with (site / "docs/index.md").open("a") as page:
        page.write("\nSee [a page that is not there](nowhere.md).\n")


def missing_page(site: Path) -> None:
    (site / "docs/guides/train.md").unlink()


FAULTS = [(broken_link, "nowhere.md"), (missing_page, "guides/train.md")]


@pytest.mark.parametrize(("fault", "expected"), FAULTS)
def test_the_strict_build_fails(fault: Callable[[Path], None], expected: str, tmp_path: Path) -> None:
    shutil.copy(REPO_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    shutil.copytree(REPO_ROOT / "docs", tmp_path / "docs")
    (tmp_path / "scripts").symlink_to(REPO_ROOT / "scripts")
    fault(tmp_path)
    env, command = makefile_docs_command()
    built = subprocess.run(
        [*command, "--site-dir", str(tmp_path / "site")],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode != 0, built.stderr[-2000:]
    assert expected in built.stderr
