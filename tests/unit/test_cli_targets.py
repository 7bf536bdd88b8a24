"""CLI commands that talk to a deployment say so in one line when there is none: no traceback.

Each command runs as a real process with no local stack (`--env` names an empty file), no
emulator variables and no Google credentials (HOME and the gcloud config point at an empty
folder), as on a newcomer's machine before `make run`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import google.auth.exceptions
import pytest

from coughcloud.cli import NO_TARGET, _no_target
from shared.config import REPO_ROOT

NEEDS_A_TARGET = [
    ["models", "list"],
    ["models", "history"],
    ["models", "promote", "1.0.0"],
    ["models", "compare", "1.0.0", "1.1.0"],
    ["upload", "examples/dry_cough.wav"],
    ["result", "dry_cough.wav"],
    ["watch", "--count", "1", "--timeout", "1"],
    ["stats"],
    ["feedback", "export", "OUT"],
    ["rescore", "--model", "1.0.0", "--limit", "1"],
    ["login"],
]


@pytest.fixture(scope="module")
def bare_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")}
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "FIREBASE_API_KEY", "RESULTS_API_URL", "MODEL_URI"):
        env.pop(name, None)
    env.update(HOME=str(home), CLOUDSDK_CONFIG=str(home / "gcloud"))
    return env


@pytest.mark.parametrize("command", NEEDS_A_TARGET, ids=" ".join)
def test_without_a_stack_or_credentials_one_line_and_exit_1(
    command: list[str], bare_env: dict[str, str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    done = subprocess.run(
        [sys.executable, "-m", "coughcloud", *args, "--env", str(empty)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=bare_env,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"coughcloud {command[0]}")
    assert "make run" in lines[0]


def test_the_reason_is_found_behind_a_wrapping_error() -> None:
    try:
        try:
            raise google.auth.exceptions.DefaultCredentialsError("no credentials")
        except google.auth.exceptions.DefaultCredentialsError as cause:
            raise RuntimeError("the client could not be made") from cause
    except RuntimeError as wrapped:
        assert _no_target(wrapped) == NO_TARGET
    refused = _no_target(google.auth.exceptions.RefreshError("invalid_grant"))
    assert refused is not None and "gcloud auth application-default login" in refused
    assert _no_target(ValueError("a bug")) is None
