"""Every document a comment or a doc cites is in the repository, and so is every cited section.

A citation is a path ending in `.md` (for example `docs/design/emulators.md`), read relative to
the citing file, then to the repository root. When a quoted section name follows it
(`docs/design/contracts.md, "Object names"`; also the bare word README and a quoted name), the
cited file must have a heading of that name. Nothing may cite the design document kept outside
the repository. Scanned: every file git tracks (or would track) of a kind that holds comments
or prose. No emulator needed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from scripts.docs_hooks import GENERATED_PAGES
from shared.config import REPO_ROOT

SCANNED_SUFFIXES = {".py", ".js", ".mjs", ".vue", ".tf", ".sh", ".md", ".yml", ".yaml", ".toml", ".cfg"}
SCANNED_NAMES = {"Makefile"}
OUTSIDE = "DESIGN" + ".md"  # spelt in two so that this file does not cite it
CITATION = re.compile(
    r"(?<![\w/.:~-])"
    r"((?:\.\.?/)*[\w-]+(?:[./][\w-]+)*\.md|README)"  # a path ending in .md, or the bare word README
    r"(?:#[\w-]+)?"
    r'(?:,?\s+(?:section\s+)?\\?"([^"\\\n]+)\\?")?'  # an optional quoted section name
)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
DOCS = REPO_ROOT / "docs"
# Files whose paths are relative to docs/ (the site's configuration; the build hooks, which
# also write links from the generated reference pages).
DOCS_RELATIVE = {
    REPO_ROOT / "mkdocs.yml": [DOCS],
    REPO_ROOT / "scripts" / "docs_hooks.py": [DOCS, DOCS / "reference"],
}
BUILT = {(DOCS / page).resolve() for page in GENERATED_PAGES}


def scanned_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    paths = [REPO_ROOT / name for name in listed]
    return [p for p in paths if p.is_file() and (p.suffix in SCANNED_SUFFIXES or p.name in SCANNED_NAMES)]


def headings(document: Path) -> set[str]:
    return {title.replace("`", "") for title in HEADING.findall(document.read_text(encoding="utf-8"))}


def problems(citing: Path, text: str) -> list[str]:
    """What is wrong with the citations in `text`, a file at `citing`."""
    found = []
    for line_number, line in enumerate(text.splitlines(), 1):
        where = f"{citing.relative_to(REPO_ROOT)}:{line_number}"
        if OUTSIDE in line:
            found.append(f"{where}: cites {OUTSIDE}, which is not in the repository")
            continue
        for match in CITATION.finditer(line):
            cited, section = match.groups()
            if cited == "README" and section is None:
                continue  # "the README" in prose, no section named
            relative = "README.md" if cited == "README" else cited
            bases = [citing.parent, REPO_ROOT, *DOCS_RELATIVE.get(citing, [])]
            candidates = [(base / relative).resolve() for base in bases]
            if any(c in BUILT for c in candidates):
                continue  # made from the code when the site is built
            target = next((c for c in candidates if c.is_file() and c.is_relative_to(REPO_ROOT)), None)
            if target is None:
                found.append(f"{where}: cites {cited}, which does not exist")
            elif section is not None and section.replace("`", "") not in headings(target):
                found.append(f'{where}: cites section "{section}" of {cited}, which has no such heading')
    return found


def test_nothing_cites_the_design_document_outside_the_repository() -> None:
    citing = [
        str(path.relative_to(REPO_ROOT))
        for path in scanned_files()
        if path != Path(__file__).resolve() and OUTSIDE in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert citing == []


def test_every_cited_document_and_section_exists() -> None:
    found = []
    for path in scanned_files():
        if path.parent == Path(__file__).resolve().parent:
            continue  # the tests of this folder cite missing pages on purpose
        found += problems(path, path.read_text(encoding="utf-8", errors="replace"))
    assert found == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# see docs/design/emulators.md", []),
        ('# (docs/design/contracts.md, "Object names")', []),
        ("# see docs/design/nowhere.md", ["cites docs/design/nowhere.md, which does not exist"]),
        ('# (docs/design/contracts.md, "Nowhere")', ['cites section "Nowhere" of docs/design/contracts.md']),
        ('description = "(README, \\"No such section\\")"', ['cites section "No such section" of README']),
        ("# the README says so", []),
        ("# https://github.com/owner/repo/blob/main/NOWHERE.md", []),
        (f"# ({OUTSIDE}, 'Lessons')", [f"cites {OUTSIDE}"]),
    ],
)
def test_the_checker_catches_what_it_should(text: str, expected: list[str]) -> None:
    found = problems(REPO_ROOT / "shared" / "example.py", text)
    assert len(found) == len(expected)
    for problem, fragment in zip(found, expected, strict=True):
        assert fragment in problem
