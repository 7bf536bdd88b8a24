"""Every hostile file (bench/hostile_files.py) ends with its own error code in-process.

The in-process path is the one `coughcloud classify` and the functions run: the name
check, then `shared.ml.classify.classify_bytes` (size check, decode, audio checks, MFCC,
model). `classify_bytes` turns only the typed errors into a `failed` result, so any
other exception escaping a hostile file fails the test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.hostile_files import CASES, HostileFile, generate, load
from shared.config import settings
from shared.errors import ERROR_CODES, InputError
from shared.ml.classify import classify_bytes
from shared.ml.model import CoughModel, load_model
from shared.names import validate_object_name


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    generate(folder)
    return folder


@pytest.fixture(scope="module")
def manifest(hostile_dir: Path) -> dict[str, HostileFile]:
    return {f.file: f for f in load(hostile_dir)}


@pytest.fixture(scope="module")
def model() -> CoughModel:
    return load_model(settings().MODEL_URI)


def in_process_outcome(item: HostileFile, data: bytes, model: CoughModel) -> dict:
    """The result `coughcloud classify` would give, with the name checked first as preprocess does."""
    try:
        validate_object_name(item.name)
    except InputError as error:
        return {"status": "failed", "error": error.to_dict()}
    return classify_bytes(data, model)


def test_the_set_is_large_and_covers_every_input_code(manifest: dict[str, HostileFile]) -> None:
    files = list(manifest.values())
    assert len(files) == len(CASES) >= 40
    assert {f.expected for f in files} <= set(ERROR_CODES)
    input_codes = set(ERROR_CODES) - {"model_error", "internal"}
    assert {f.expected for f in files} == input_codes


@pytest.mark.parametrize("case", CASES, ids=[c.file for c in CASES])
def test_hostile_file_fails_with_its_code(
    case, hostile_dir: Path, manifest: dict[str, HostileFile], model: CoughModel
) -> None:
    item = manifest[case.file]
    result = in_process_outcome(item, (hostile_dir / item.file).read_bytes(), model)
    assert result["status"] == "failed", f"{item.file} ({item.why}) was accepted: {result}"
    assert result["error"]["code"] == item.expected, f"{item.file} ({item.why}): {result['error']}"
    assert result["error"]["message"].strip(), "a failure carries a message a person can read"
    assert "Traceback" not in result["error"]["message"]
