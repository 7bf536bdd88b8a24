"""Offline static checks: `terraform fmt`, checkov, and the Firestore rules.

`terraform validate` would need the google provider, which cannot be downloaded here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.infra.terraform import REPO, TF_DIR, resources, unwrap

RULES = REPO / "infra" / "firestore.rules"


def terraform() -> str:
    binary = shutil.which("terraform")
    assert binary, (
        "terraform is not on PATH: install Terraform >= 1.5 (e.g. the 1.11 zip from "
        "releases.hashicorp.com into /usr/local/bin) to run `terraform fmt -check`"
    )
    return binary


def test_terraform_fmt_check_passes():
    env = {**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    result = subprocess.run(
        [terraform(), "fmt", "-check", "-recursive", "-diff", str(TF_DIR)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


def test_checkov_finds_no_failed_check():
    checkov = Path(sys.executable).parent / "checkov"
    result = subprocess.run(
        [
            str(checkov),
            "-d",
            str(TF_DIR),
            "--framework",
            "terraform",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
    report = json.loads(result.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert not failed
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 40, "checkov should have scanned every resource"
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "")) > 20, skipped["check_id"]


def test_every_checkov_skip_sits_beside_its_resource_with_a_reason():
    for path in TF_DIR.glob("*.tf"):
        lines = path.read_text().splitlines()
        for number, line in enumerate(lines):
            if "checkov:skip" not in line:
                continue
            assert re.fullmatch(r"\s*#checkov:skip=CKV2?_GCP_\d+:.{20,}", line), f"{path.name}:{number + 1}"
            above = next(lines[i] for i in range(number - 1, -1, -1) if "checkov:skip" not in lines[i])
            assert above.startswith("resource "), f"{path.name}:{number + 1} is not at the top of a resource"


def test_firestore_rules_let_no_client_read_or_write():
    rules = RULES.read_text()
    code = "\n".join(line.split("//")[0] for line in rules.splitlines())
    assert "rules_version = '2'" in code
    assert "service cloud.firestore" in code
    allows = re.findall(r"allow\s+([^:]+):\s*if\s+([^;]+);", code)
    assert allows == [("read, write", "false")]
    assert "match /{document=**}" in code


def test_the_rules_deployed_are_the_rules_file_on_the_default_database():
    ruleset = unwrap(resources("google_firebaserules_ruleset")["firestore"]["source"])
    files = unwrap(ruleset["files"])
    assert unwrap(files["content"]) == '${file("${path.module}/../firestore.rules")}'
    release = resources("google_firebaserules_release")["firestore"]
    assert unwrap(release["name"]) == "cloud.firestore"
    database = resources("google_firestore_database")["default"]
    assert unwrap(database["name"]) == "(default)"  # firebase_admin's default database
    assert unwrap(database["type"]) == "FIRESTORE_NATIVE"
