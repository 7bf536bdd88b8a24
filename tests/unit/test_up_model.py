"""`coughcloud up --model DIR` before anything starts: the folder is checked as `models push`
checks one, and the options carry it (also through --detach's re-run of `up`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from coughcloud.cli import build_parser
from coughcloud.commands.stack import _options
from local_stack.processes import StartupError
from local_stack.resources import check_model_dir, model_uri
from local_stack.stack import StackOptions
from shared.config import BUNDLED_MODEL_DIR, Settings


def folder(tmp_path: Path, **changes: object) -> Path:
    """A copy of the shipped model whose metadata has `changes`."""
    copy = tmp_path / "my-model"
    shutil.copytree(BUNDLED_MODEL_DIR, copy, ignore=shutil.ignore_patterns("*.keras", "report"))
    meta = json.loads((copy / "metadata.json").read_text())
    (copy / "metadata.json").write_text(json.dumps({**meta, **changes}))
    return copy


def test_a_folder_of_another_name_is_served_from_a_registry_of_that_name(tmp_path: Path) -> None:
    mine = folder(tmp_path, name="my-classifier", version="2.0.0")
    check_model_dir(mine)
    assert model_uri(Settings(), mine) == "gs://coughcloud-models/my-classifier/2.0.0"
    shipped = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())
    assert (
        model_uri(Settings()) == f"gs://coughcloud-models/cough-classifier/{shipped['version']}"
    )  # the default


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "a/b"}, "'a/b' is not a model name"),
        ({"version": "../1"}, "'../1' is not a version name"),
        ({"negative_labels": ["sneeze"]}, "negative_labels must be a list of some of its labels"),
        (
            {"labels": ["a", "b"], "negative_labels": [], "display_names": {}},
            r"takes .* and gives .*2 labels",
        ),
        ({"sha256": "0" * 64}, "model.tflite has sha256"),
    ],
)
def test_a_folder_that_cannot_serve_stops_up_with_the_reason(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(StartupError, match=message):
        check_model_dir(folder(tmp_path, **changes))


def test_a_folder_without_its_files_stops_up(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(StartupError, match=r"--model .*empty: cannot read .*metadata\.json"):
        check_model_dir(tmp_path / "empty")
    broken = folder(tmp_path)
    (broken / "metadata.json").write_text("{")
    with pytest.raises(StartupError, match=r"metadata\.json is not valid JSON"):
        check_model_dir(broken)


def test_the_option_reaches_the_stack_and_survives_detach(tmp_path: Path) -> None:
    args = build_parser("up").parse_args(["up", "--model", str(tmp_path / "m"), "--state-dir", str(tmp_path)])
    options = _options(args)
    assert options.model_dir == (tmp_path / "m").resolve()
    assert options.argv()[-2:] == ["--model", str(options.model_dir)]
    assert _options(build_parser("up").parse_args(["up", *options.argv()])) == options
    assert StackOptions().model_dir is None and "--model" not in StackOptions().argv()
