"""`coughcloud models …` on the Firestore emulator and a local registry folder: the whole
round of changes with its history, and every refusal leaving everything as it was."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from coughcloud.cli import main
from shared.config import BUNDLED_MODEL_DIR
from shared.registry import store
from shared.registry.artifacts import Registry
from tests.registry_support import NAME, SPEC, add_version, model_folder

pytestmark = pytest.mark.integration


@pytest.fixture
def target(emulators: object, registry: Registry, tmp_path: Path) -> Path:
    """The test's own target file (the same values as its environment, so nothing leaks)."""
    keys = ("GOOGLE_CLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "MODEL_URI",
            "MODELS_COLLECTION")  # fmt: skip
    path = tmp_path / "target.env"
    path.write_text("".join(f"{key}={os.environ[key]}\n" for key in keys))
    return path


def models(target: Path, *args: str) -> int:
    action, *rest = args
    return main(["models", action, "--env", str(target), *rest])


def state(registry: Registry) -> tuple:
    """Everything a change could touch: the pointer, its history, the registry's files."""
    files = sorted(str(p.relative_to(registry.root)) for p in Path(registry.root).rglob("*") if p.is_file())
    return store.read_pointer(NAME), store.history(NAME), files


def test_push_promote_shadow_canary_rollback_and_the_history(
    target: Path, registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert models(target, "list", "--format", "json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["stored"] is False and listed["pointer"]["champion"] == "1.0.0"
    [row] = listed["versions"]  # the shipped default's figures, copied in as 1.0.0
    metrics = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())["metrics"]
    assert row["accuracy"] == metrics["synthetic"]["accuracy"]
    assert row["real_non_cough_called_cough"] == metrics["held_out"]["real"]["called_cough_rate"]
    assert row["held_out_cough_recall"] == metrics["held_out"]["coughs"]["called_cough_rate"]
    assert row["held_out_dry_wet_right"] == metrics["held_out"]["coughs"]["dry_wet_right_of_called"]

    assert models(target, "push", str(BUNDLED_MODEL_DIR), "--version", "1.0.1") == 0
    assert "pushed cough-classifier 1.0.1" in capsys.readouterr().out
    assert models(target, "promote", "1.0.1") == 0
    assert "(no pointer: MODEL_URI) → champion 1.0.1" in capsys.readouterr().out
    assert models(target, "shadow", "1.0.0") == 0
    assert models(target, "canary", "1.0.0", "--percent", "20") == 0
    capsys.readouterr()
    assert models(target, "list") == 0
    table = capsys.readouterr().out
    assert "1.0.0            previous, canary 20%, shadow" in table
    assert "1.0.1            champion" in table

    assert models(target, "rollback") == 0
    pointer = store.read_pointer(NAME)
    assert (pointer.champion, pointer.previous, pointer.canary, pointer.shadow) == (
        "1.0.0",
        "1.0.1",
        None,
        None,
    )

    capsys.readouterr()
    assert models(target, "history", "--format", "json") == 0
    history = json.loads(capsys.readouterr().out)
    assert [entry["action"] for entry in history] == ["promote", "shadow", "canary", "rollback"]
    assert history[0]["from"] is None and history[0]["to"]["champion"] == "1.0.1"
    assert history[3]["from"] == {"champion": "1.0.1", "canary": "1.0.0", "percent": 20, "shadow": "1.0.0"}
    assert all("@" in entry["who"] and entry["at"] for entry in history)


REFUSALS = [
    (("promote", "9.9.9"), "has no version '9.9.9' (known: 1.0.0, 2.0.0, broken)"),
    (("promote", "1.0.0"), "1.0.0 is already the champion"),
    (("promote", "broken"), "model.tflite has sha256"),
    (("canary", "2.0.0", "--percent", "101"), "from 0 to 100, not 101"),
    (("canary", "2.0.0", "--percent", "-5"), "from 0 to 100, not -5"),
    (("canary", "2.0.0"), "give VERSION and --percent N"),
    (("canary", "1.0.0", "--percent", "10"), "a canary must be another version"),
    (("canary", "--off"), "has no canary"),
    (("shadow", "1.0.0"), "a shadow must be another version"),
    (("shadow", "--off"), "has no shadow"),
    (("rollback",), "has no previous champion"),
    (("push", "{bad_sha}"), "model.tflite has sha256"),
    (("push", "{bad_spec}"), "window='kaiser' is not one of"),
    (("push", "{bad_spec}", "--version", "a/b"), "'a/b' is not a version name"),
    (("push", str(BUNDLED_MODEL_DIR), "--version", "2.0.0"), "2.0.0 exists already"),
]


@pytest.mark.parametrize(("args", "message"), REFUSALS, ids=[" ".join(a) for a, _ in REFUSALS])
def test_refusals_say_why_and_change_nothing(
    target: Path,
    registry: Registry,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    message: str,
) -> None:
    add_version(registry, tmp_path, "2.0.0")
    add_version(registry, tmp_path, "broken", sha256="0" * 64)
    folders = {
        "{bad_sha}": str(model_folder(tmp_path, "3.0.0", sha256="f" * 64)),
        "{bad_spec}": str(model_folder(tmp_path, "4.0.0", features={**SPEC, "window": "kaiser"})),
    }
    assert store.seed_champion(NAME, "1.0.0", "test")  # a stored pointer, as `coughcloud up` leaves it
    assert not store.seed_champion(NAME, "2.0.0", "test")  # seeding never overwrites
    before = state(registry)

    assert models(target, *(folders.get(a, a) for a in args)) == 1

    err = capsys.readouterr().err
    assert message in err and "Nothing was changed." in err
    assert state(registry) == before
