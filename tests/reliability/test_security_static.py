"""Security properties that can be checked without running anything.

- No deployed code writes to Cloud Storage (a function writing into the bucket that
  triggers it can loop forever; docs/design/lessons.md). IAM says the same for Google
  Cloud (tests/infra/test_iam.py); this checks the code itself.
- infra/firestore.rules lets no client write, and reads only under a condition.
  The rules themselves cannot be exercised here: Google's Firestore emulator is not
  on the reachable registries, and @firestore-emulator/server ignores rules.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from shared.config import REPO_ROOT

DEPLOYED = sorted([*(REPO_ROOT / "functions").glob("*.py"), *(REPO_ROOT / "shared").rglob("*.py")])
# google-cloud-storage calls that create, change or delete objects.
STORAGE_WRITES = {
    "upload_from_string",
    "upload_from_file",
    "upload_from_filename",
    "create_resumable_upload_session",
    "compose",
    "rewrite",
    "copy_blob",
    "rename_blob",
    "delete_blob",
    "delete_blobs",
    "make_public",
    "update_storage_class",
}
RULES = REPO_ROOT / "infra" / "firestore.rules"


def storage_write_calls(path: Path) -> list[str]:
    """`file:line name` for each call of a Storage write method, and each blob.open for writing."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        writes_open = name == "open" and any(
            isinstance(a, ast.Constant) and isinstance(a.value, str) and "w" in a.value
            for a in [*node.args, *(k.value for k in node.keywords)]
        )
        if name in STORAGE_WRITES or writes_open:
            found.append(f"{path.name}:{node.lineno} {name}")
    return found


def test_the_scan_sees_the_deployed_code() -> None:
    names = {p.name for p in DEPLOYED}
    assert {"preprocess.py", "predict.py", "results_api.py", "storage.py"} <= names


def test_the_scan_would_find_a_write(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("b.blob('x').upload_from_string(b'')\nwith blob.open('wb') as f:\n    pass\n")
    assert [s.split()[-1] for s in storage_write_calls(sample)] == ["upload_from_string", "open"]


@pytest.mark.parametrize("path", DEPLOYED, ids=[p.relative_to(REPO_ROOT).as_posix() for p in DEPLOYED])
def test_deployed_code_never_writes_to_storage(path: Path) -> None:
    assert storage_write_calls(path) == []


def without_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def rules_statements(text: str) -> list[tuple[str, str]]:
    """(operations, condition) for every `allow` in a rules file; condition "true" if none."""
    statements = []
    for match in re.finditer(r"\ballow\s+([a-z,\s]+?)\s*(?::\s*if\s+([^;]+))?;", text):
        statements.append((match.group(1), (match.group(2) or "true").strip()))
    return statements


def test_rules_parser_reads_conditions_and_bare_allows() -> None:
    sample = "allow read: if request.auth != null;\nallow write; // open\nallow create, update: if false;"
    assert rules_statements(sample) == [
        ("read", "request.auth != null"),
        ("write", "true"),
        ("create, update", "false"),
    ]


def test_firestore_rules_let_no_client_write_and_read_only_under_a_condition() -> None:
    text = without_comments(RULES.read_text())
    assert re.search(r"rules_version\s*=\s*'2'", text)
    assert "service cloud.firestore" in text
    statements = rules_statements(text)
    assert statements, "the rules must say something"
    assert len(statements) == text.count("allow "), "every allow statement was parsed"
    for operations, condition in statements:
        ops = {op.strip() for op in operations.split(",")}
        assert condition != "true", f"unconditional allow {operations}"
        if ops & {"write", "create", "update", "delete"}:
            assert condition == "false", f"clients may {operations} if {condition}"
