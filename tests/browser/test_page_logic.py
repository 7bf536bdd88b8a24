"""The page's pure logic (object names, polling, history, error sentences) under Node's test runner."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

FRONTEND = Path(__file__).resolve().parents[2] / "frontend_stub"


def test_page_logic_passes_node_tests() -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for the web page"
    run = subprocess.run(
        [node, "--test", "tests/"], cwd=FRONTEND, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout
    assert "# pass 0" not in run.stdout
