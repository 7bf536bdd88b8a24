"""Terraform's `model_name` takes any model name the registry takes (shared/registry/artifacts.py),
and everything that names the model follows it: the functions' MODEL_URI and the pointer document."""

from __future__ import annotations

import re

import pytest

from shared.registry.artifacts import VERSION_PATTERN, check_model_name
from shared.registry.pointer import Refusal
from tests.infra.terraform import REPO, _parsed, locals_, resources, unwrap, variable_default


def _model_name_rule() -> tuple[str, str]:
    """The regex of model_name's validation, and the pattern it rules out."""
    block = next(block["model_name"] for block in _parsed()["variable"] if "model_name" in block)
    condition = unwrap(unwrap(block["validation"])["condition"])
    match = re.fullmatch(
        r'\$\{can\(regex\("(.+)",var\.model_name\)\) && length\(regexall\("(.+)",var\.model_name\)\) == 0\}',
        condition,
    )
    assert match, condition
    return match.group(1), match.group(2)


def test_terraform_checks_model_name_with_the_registrys_rule() -> None:
    allowed, ruled_out = _model_name_rule()
    assert allowed == f"^{VERSION_PATTERN.pattern}$"
    assert ruled_out == "[.][.]"
    for name in ("cough-classifier", "sound-classifier", "My_Model.v2", variable_default("model_name")):
        assert check_model_name(name) == name
        assert re.search(allowed, name) and not re.search(ruled_out, name)
    for name in ("", "-x", "a/b", "a..b", "x" * 65):
        with pytest.raises(Refusal, match="is not a model name"):
            check_model_name(name)
        assert not (re.search(allowed, name) and not re.search(ruled_out, name)), name


def test_the_served_model_and_its_pointer_follow_model_name() -> None:
    assert locals_()["model_uri"] == (
        "gs://${google_storage_bucket.models.name}/${var.model_name}/${var.model_version}"
    )
    pointer = resources("google_firestore_document")["model_pointer"]
    assert unwrap(pointer["document_id"]) == "${var.model_name}"


def test_the_example_tfvars_names_the_default_model() -> None:
    """A copied `terraform.tfvars.example` deploys the model the defaults would."""
    example = (REPO / "infra/terraform/terraform.tfvars.example").read_text()
    for name in ("model_name", "model_version"):
        assert re.search(rf'^{name}\s*=\s*"{re.escape(variable_default(name))}"\s*$', example, re.M), name
