"""infra/terraform and the model registry agree: the pointer document Terraform seeds is the one
the functions read, in the form shared/registry/pointer.py reads, and Terraform never rewrites it."""

from __future__ import annotations

import ast

from shared.config import Settings
from shared.registry.pointer import ModelPointer
from tests.infra.terraform import function_env, resources, unwrap, variable_default

POINTER = "${google_firestore_document.model_pointer.collection}"


def _pointer() -> dict:
    return resources("google_firestore_document")["model_pointer"]


def test_terraform_seeds_the_first_champion_where_the_functions_read_it() -> None:
    pointer = _pointer()
    assert unwrap(pointer["collection"]) == Settings.MODELS_COLLECTION
    assert unwrap(pointer["document_id"]) == "${var.model_name}"
    for name in ("preprocess", "predict"):
        env = function_env(name)
        assert env["MODELS_COLLECTION"] == POINTER
        assert env["MODEL_POINTER_TTL_S"] == "${tostring(var.model_pointer_ttl_s)}"
    assert variable_default("model_pointer_ttl_s") == Settings.MODEL_POINTER_TTL_S


def test_the_seeded_fields_are_a_pointer_the_code_reads() -> None:
    expression = unwrap(_pointer()["fields"]).removeprefix("${jsonencode(").removesuffix(")}")
    typed = ast.literal_eval(expression)  # hcl2 renders the object as a Python literal
    # Firestore's typed JSON: {"stringValue": …} | {"integerValue": "0"} | {"nullValue": null}.
    values = {key: _value(**value) for key, value in typed.items()}
    assert values["champion"] == "${var.model_version}" and values["name"] == "${var.model_name}"
    stored = {**values, "champion": variable_default("model_version"), "name": variable_default("model_name")}
    expected = ModelPointer(name=variable_default("model_name"), champion=variable_default("model_version"))
    assert ModelPointer.from_dict(stored) == expected


def _value(stringValue: str | None = None, integerValue: str | None = None, **null: None) -> object:
    if stringValue is not None:
        return stringValue
    return int(integerValue) if integerValue is not None else None


def test_terraform_writes_the_pointer_once_and_leaves_it_to_the_cli() -> None:
    [lifecycle] = _pointer()["lifecycle"]
    assert lifecycle["ignore_changes"] == [["${fields}"]]
