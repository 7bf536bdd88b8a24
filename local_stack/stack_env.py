"""`.local/stack.env`: the running stack's endpoints as KEY=VALUE lines (`set -a; . .local/stack.env`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from local_stack.processes import LOCAL_DIR

DEFAULT_STACK_ENV = LOCAL_DIR / "stack.env"


def write_stack_env(path: Path, env: Mapping[str, str]) -> None:
    """Write atomically, so a reader never sees half a file (its presence means "ready")."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    os.replace(tmp, path)


def read_stack_env(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.removeprefix("export ").partition("=")
            env[key.strip()] = value.strip().strip("'\"")
    return env
