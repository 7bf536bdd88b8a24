"""`coughcloud classify`: output per file, formats, exit codes (0 all done, 1 any failed, 2 usage)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coughcloud.cli import main
from shared.config import REPO_ROOT
from tests.fixtures.audio_files import random_bytes

DRY = str(REPO_ROOT / "examples" / "dry_cough.wav")
WEBM = str(REPO_ROOT / "examples" / "wet_cough.webm")


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_json_lines_one_per_file_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", DRY, WEBM]) == 0
    results = _lines(capsys.readouterr().out)
    assert [r["file"] for r in results] == [DRY, WEBM]
    assert [r["label"] for r in results] == ["dry", "wet"]
    for result in results:
        assert result["status"] == "done"
        assert result["model"] == {
            "name": "cough-classifier",
            "version": "1.5.0",
            "training_data": "mixed",
        }
        assert result["confidence"] == max(result["probabilities"].values())
        assert "error" not in result


def test_a_missing_and_a_bad_file_fail_without_stopping_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.wav"
    junk.write_bytes(random_bytes())
    missing = str(tmp_path / "nope.wav")
    assert main(["classify", missing, str(junk), DRY]) == 1
    results = _lines(capsys.readouterr().out)
    assert [r["status"] for r in results] == ["failed", "failed", "done"]
    assert results[0]["error"]["code"] == "unreadable_file"
    assert "No such file" in results[0]["error"]["message"]
    assert results[1]["error"]["code"] == "unsupported_format"


def test_a_file_over_the_size_limit_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    huge = tmp_path / "huge.wav"
    with huge.open("wb") as handle:  # sparse: 1 GB on paper, nothing on disk
        handle.truncate(1024**3)
    assert main(["classify", str(huge)]) == 1
    (result,) = _lines(capsys.readouterr().out)
    assert result["error"]["code"] == "too_large"
    assert result["label"] is None


def test_table_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "--format", "table", DRY, str(tmp_path / "gone.ogg")]) == 1
    header, done, failed, note = capsys.readouterr().out.splitlines()
    assert header.split() == ["FILE", "STATUS", "LABEL", "CONFIDENCE", "DRY", "WET", "NOT_COUGH", "ERROR"]
    assert done.split()[:3] == [DRY, "done", "dry"]
    assert failed.split()[:3] == [str(tmp_path / "gone.ogg"), "failed", "-"]
    assert "unreadable_file:" in failed
    assert note == (
        "Note: cough-classifier 1.5.0 is a demonstration model trained partly on synthetic sounds, "
        "not a medical diagnosis; see the model card: docs/concepts/model.md."
    )


@pytest.mark.parametrize("output", ["json", "table"])
def test_a_real_cli_process_prints_no_litert_noise(output: str) -> None:
    # Every file of examples/, as the shell's `examples/*` gives them: the folder holds audio only.
    clips = sorted(str(path) for path in (REPO_ROOT / "examples").iterdir())
    done = subprocess.run(
        [sys.executable, "-m", "coughcloud", "classify", "--format", output, *clips],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "XNNPACK" not in done.stdout
    assert "XNNPACK" not in done.stderr
    assert done.stderr == ""
    if output == "json":
        assert [result["file"] for result in _lines(done.stdout)] == clips
    else:
        assert done.stdout.count("not a medical diagnosis") == 1


def test_a_broken_model_fails_every_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["classify", "--model", str(tmp_path), DRY]) == 1
    (result,) = _lines(capsys.readouterr().out)
    assert result["status"] == "failed"
    assert result["error"]["code"] == "model_error"


@pytest.mark.parametrize("argv", [["classify"], ["classify", "--format", "xml", DRY]])
def test_bad_usage_exits_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2


def test_console_script_exit_codes(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "coughcloud", "classify"]
    done = subprocess.run([*command, DRY], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["label"] == "dry"
    missing = str(tmp_path / "x.wav")
    failed = subprocess.run([*command, missing], capture_output=True, cwd=REPO_ROOT, timeout=60)
    assert failed.returncode == 1
