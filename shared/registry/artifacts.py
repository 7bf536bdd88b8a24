"""Version folders in the registry: `<root>/<version>/` holding metadata.json and the model file it
names (`model_file`: model.tflite, the default, or model.onnx).

The registry's root is the parent of MODEL_URI (`gs://<models bucket>/<name>` on Cloud and
on the local stack, a local folder in tests), so the model's name and its first version come
from the one configuration value the functions already had. Versions are immutable: a push
never overwrites one, and every push is checked first (sha256, a feature spec the pipeline
can compute, a model that runs), so a version in the registry is one that can serve. This
module only reads: the one write, a push, is the CLI's (coughcloud/model_push.py), because
deployed code never writes to Storage.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.config import settings
from shared.errors import ModelError
from shared.ml.model import METADATA_FILE, MODEL_FILE
from shared.registry.pointer import Refusal

VERSION_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


@dataclass(frozen=True)
class Registry:
    """Where a model's versions live: `root` is a gs:// prefix or a local folder."""

    root: str
    name: str

    def uri(self, version: str) -> str:
        return f"{self.root}/{version}"


@dataclass(frozen=True)
class Location:
    registry: Registry
    version: str  # the version MODEL_URI names: the champion while no pointer document exists


def default_location(model_uri: str | None = None) -> Location:
    """The registry and version of MODEL_URI (`…/<name>/<version>`)."""
    uri = (model_uri or settings().MODEL_URI).rstrip("/")
    root, _, version = uri.rpartition("/")
    name = root.rpartition("/")[2]
    if not root or not name or not version:
        raise ValueError(f"MODEL_URI={uri!r} is not a <registry>/<name>/<version> folder")
    if not root.startswith("gs://"):
        root = str(Path(root).expanduser().resolve())
    return Location(Registry(root, name), version)


def check_version_name(version: str) -> str:
    return _check_name(version, "version")


def check_model_name(name: str) -> str:
    """A model's name is a folder of the models bucket and a pointer document's id: any name of
    the same characters as a version (Terraform's `model_name` is checked with the same rule)."""
    return _check_name(name, "model")


def _check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not VERSION_PATTERN.fullmatch(value) or ".." in value:
        raise Refusal(
            f"{value!r} is not a {what} name: use 1-64 letters, digits, '.', '_', '+' or '-', "
            "starting with a letter or digit."
        )
    return value


# --- reading objects ---------------------------------------------------------------------------


def bucket_and_prefix(root: str) -> tuple[str, str]:
    bucket, _, prefix = root.removeprefix("gs://").partition("/")
    return bucket, prefix


def storage_bucket(root: str) -> Any:
    from shared.cloud.storage import client

    return client().bucket(bucket_and_prefix(root)[0])


def read_file(registry: Registry, version: str, filename: str) -> bytes | None:
    """A file of one version, or None when it does not exist."""
    if registry.root.startswith("gs://"):
        from google.api_core import exceptions

        name = f"{bucket_and_prefix(registry.root)[1]}/{version}/{filename}"
        try:
            return storage_bucket(registry.root).blob(name).download_as_bytes()
        except exceptions.NotFound:
            return None
    path = Path(registry.root) / version / filename
    return path.read_bytes() if path.is_file() else None


def list_versions(registry: Registry) -> list[str]:
    """Every version folder holding a metadata.json, sorted."""
    if registry.root.startswith("gs://"):
        prefix = f"{bucket_and_prefix(registry.root)[1]}/"
        names = (blob.name for blob in storage_bucket(registry.root).list_blobs(prefix=prefix))
        found = {name[len(prefix) :].split("/")[0] for name in names if name.endswith(f"/{METADATA_FILE}")}
    else:
        root = Path(registry.root)
        found = {path.parent.name for path in root.glob(f"*/{METADATA_FILE}")} if root.is_dir() else set()
    return sorted(found)


def metadata(registry: Registry, version: str) -> dict[str, Any]:
    """The metadata.json of a version in the registry; Refusal for an unknown version."""
    data = read_file(registry, version, METADATA_FILE)
    if data is None:
        known = ", ".join(list_versions(registry)) or "none"
        raise Refusal(f"{registry.name} has no version {version!r} (known: {known}).")
    try:
        parsed = json.loads(data)
    except ValueError as error:
        raise Refusal(f"{registry.uri(version)}/{METADATA_FILE} is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise Refusal(f"{registry.uri(version)}/{METADATA_FILE} is not a JSON object.")
    return parsed


# --- checking a model before it may serve ------------------------------------------------------


def read_json_object(path: Path) -> dict[str, Any]:
    """A local JSON object (a model folder's metadata.json, an import's SPEC.json); Refusal
    saying what is wrong otherwise."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise Refusal(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:  # UnicodeDecodeError included
        raise Refusal(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise Refusal(f"{path} is not a JSON object.")
    return data


def check_model(model: bytes, meta: dict[str, Any], where: str) -> None:
    """Refuse a model that cannot serve: a bad sha256, a feature spec the pipeline cannot
    compute, a model whose input or output does not fit its metadata, or outputs that are not
    what it declares (`probabilities` that are not, so none can answer a confidence of 139)."""
    from shared.ml.model import CoughModel

    declared = meta.get("sha256")
    digest = hashlib.sha256(model).hexdigest()
    if declared != digest:
        name = meta.get("model_file", MODEL_FILE)
        raise Refusal(f"{where}: {name} has sha256 {digest}, but metadata.json says {declared}.")
    try:
        CoughModel(model, meta, where).check_outputs()
    except ModelError as error:
        raise Refusal(f"{where}: {error.message}") from None
    except (ValueError, ArithmeticError) as error:
        raise Refusal(f"{where}: the pipeline cannot compute this model's features: {error}") from None


def check_version(registry: Registry, version: str) -> dict[str, Any]:
    """A version in the registry that can serve; its metadata. Refusal otherwise."""
    check_version_name(version)
    meta = metadata(registry, version)
    name = model_file_of(meta, registry.uri(version))
    model = read_file(registry, version, name)
    if model is None:
        raise Refusal(f"{registry.uri(version)} has no {name}.")
    check_model(model, meta, registry.uri(version))
    return meta


def model_file_of(meta: dict[str, Any], where: str) -> str:
    """The model file a version's metadata names (model.tflite or model.onnx); Refusal otherwise."""
    from shared.ml.model import model_file

    try:
        return model_file(meta, where)
    except ModelError as error:
        raise Refusal(error.message) from None
