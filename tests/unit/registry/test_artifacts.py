"""shared/registry/artifacts.py: pushing a version, and every reason one is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coughcloud.model_push import push
from shared.config import BUNDLED_MODEL_DIR
from shared.registry import artifacts
from shared.registry.artifacts import Registry, default_location
from shared.registry.pointer import Refusal
from tests.registry_support import SPEC, model_folder

SHIPPED_SHA256 = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())["sha256"]


def files(registry: Registry) -> list[str]:
    return sorted(str(p.relative_to(registry.root)) for p in Path(registry.root).rglob("*") if p.is_file())


def test_the_registry_is_model_uris_parent() -> None:
    location = default_location("gs://models-bucket/cough-classifier/1.0.0/")
    assert location.registry == Registry("gs://models-bucket/cough-classifier", "cough-classifier")
    assert location.version == "1.0.0"
    assert location.registry.uri("2.0.0") == "gs://models-bucket/cough-classifier/2.0.0"


def test_push_as_another_version_rewrites_only_the_version(registry: Registry, tmp_path: Path) -> None:
    meta = push(registry, BUNDLED_MODEL_DIR, "1.0.0-copy")
    assert artifacts.list_versions(registry) == ["1.0.0", "1.0.0-copy"]
    stored = artifacts.metadata(registry, "1.0.0-copy")
    assert stored == meta and stored["version"] == "1.0.0-copy"
    original = json.loads((BUNDLED_MODEL_DIR / "metadata.json").read_text())
    assert {k: v for k, v in stored.items() if k != "version"} == {
        k: v for k, v in original.items() if k != "version"
    }
    assert artifacts.check_version(registry, "1.0.0-copy")["sha256"] == original["sha256"]


@pytest.mark.parametrize(
    ("changes", "version", "message"),
    [
        ({"sha256": "0" * 64}, None, f"model.tflite has sha256 {SHIPPED_SHA256[:8]}"),
        ({"features": {**SPEC, "window": "kaiser"}}, None, "window='kaiser' is not one of"),
        ({"features": {**SPEC, "fmax": 12000.0}}, None, "fmax <= sample_rate / 2"),
        ({"features": {**SPEC, "n_mfcc": 13}}, None, r"takes \[None, 20, 100\]"),
        ({"features": "mfcc please"}, None, "feature spec .* is not an object"),
        ({"name": "another-model"}, None, "'another-model', but this deployment serves 'cough-classifier'"),
        ({}, "../escape", "is not a version name"),
        ({}, "1.0.0", "1.0.0 exists already; versions are immutable"),
    ],
)
def test_push_refusals_leave_the_registry_as_it_was(
    registry: Registry, tmp_path: Path, changes: dict, version: str | None, message: str
) -> None:
    folder = model_folder(tmp_path, version or "2.0.0", **changes)
    before = files(registry)
    with pytest.raises(Refusal, match=message):
        push(registry, folder, version)
    assert files(registry) == before


def test_a_folder_without_a_model_is_refused(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(Refusal, match=r"lacks metadata\.json"):
        push(registry, tmp_path / "empty")
    onnx_named = model_folder(tmp_path, "2.5.0", model_file="model.onnx")
    with pytest.raises(Refusal, match=r"lacks model\.onnx"):
        push(registry, onnx_named)
    bad = model_folder(tmp_path, "3.0.0")
    (bad / "metadata.json").write_text("{not json")
    with pytest.raises(Refusal, match="is not valid JSON"):
        push(registry, bad)


def test_an_unknown_version_is_refused_with_the_known_ones(registry: Registry) -> None:
    with pytest.raises(Refusal, match=r"has no version '9\.9\.9' \(known: 1\.0\.0\)"):
        artifacts.check_version(registry, "9.9.9")


def test_a_version_whose_model_was_tampered_with_is_refused(registry: Registry) -> None:
    tflite = Path(registry.root) / "1.0.0" / "model.tflite"
    tflite.write_bytes(tflite.read_bytes()[:-1] + b"\0")
    with pytest.raises(Refusal, match=r"model\.tflite has sha256"):
        artifacts.check_version(registry, "1.0.0")
