"""Version folders in the registry: `<root>/<version>/` holding model.tflite and metadata.json.

The registry's root is the parent of MODEL_URI (`gs://<models bucket>/<name>` on Cloud and
on the local stack, a local folder in tests), so the model's name and its first version come
from the one configuration value the functions already had. Versions are immutable: a push
never overwrites one, and every push is checked first (sha256, a feature spec the pipeline
can compute, a model that runs), so a version in the registry is one that can serve.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from shared.config import settings
from shared.errors import ModelError
from shared.registry.pointer import Refusal

MODEL_FILE = "model.tflite"
METADATA_FILE = "metadata.json"
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
    if not isinstance(version, str) or not VERSION_PATTERN.fullmatch(version) or ".." in version:
        raise Refusal(
            f"{version!r} is not a version name: use 1-64 letters, digits, '.', '_', '+' or '-', "
            "starting with a letter or digit."
        )
    return version


# --- reading and writing objects ------------------------------------------------------------


def _split(root: str) -> tuple[str, str]:
    bucket, _, prefix = root.removeprefix("gs://").partition("/")
    return bucket, prefix


def _bucket(root: str) -> Any:
    from shared.cloud.storage import client

    return client().bucket(_split(root)[0])


def read_file(registry: Registry, version: str, filename: str) -> bytes | None:
    """A file of one version, or None when it does not exist."""
    if registry.root.startswith("gs://"):
        from google.api_core import exceptions

        name = f"{_split(registry.root)[1]}/{version}/{filename}"
        try:
            return _bucket(registry.root).blob(name).download_as_bytes()
        except exceptions.NotFound:
            return None
    path = Path(registry.root) / version / filename
    return path.read_bytes() if path.is_file() else None


def _write_file(registry: Registry, version: str, filename: str, data: bytes, create_only: bool) -> None:
    """Write one file; `create_only` (metadata.json) makes two pushes of one version unable to both land."""
    if registry.root.startswith("gs://"):
        from google.api_core import exceptions

        name = f"{_split(registry.root)[1]}/{version}/{filename}"
        try:
            _bucket(registry.root).blob(name).upload_from_string(
                data, if_generation_match=0 if create_only else None
            )
        except exceptions.PreconditionFailed:
            raise Refusal(f"{registry.uri(version)} was pushed by someone else meanwhile.") from None
        return
    path = Path(registry.root) / version / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("xb" if create_only else "wb") as file:
            file.write(data)
    except FileExistsError:
        raise Refusal(f"{registry.uri(version)} was pushed by someone else meanwhile.") from None


def list_versions(registry: Registry) -> list[str]:
    """Every version folder holding a metadata.json, sorted."""
    if registry.root.startswith("gs://"):
        prefix = f"{_split(registry.root)[1]}/"
        names = (blob.name for blob in _bucket(registry.root).list_blobs(prefix=prefix))
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


def check_model(tflite: bytes, meta: dict[str, Any], where: str) -> None:
    """Refuse a model that cannot serve: a bad sha256, a feature spec the pipeline cannot
    compute, or a model that does not run on features computed with its own spec."""
    from shared.ml.features import mfcc
    from shared.ml.model import CoughModel

    declared = meta.get("sha256")
    digest = hashlib.sha256(tflite).hexdigest()
    if declared != digest:
        raise Refusal(f"{where}: model.tflite has sha256 {digest}, but metadata.json says {declared}.")
    try:
        model = CoughModel(tflite, meta, where)
        noise = np.random.default_rng(0).normal(0, 0.1, model.spec.sample_rate).astype(np.float32)
        model.predict(mfcc(noise, model.spec), model.spec)
    except ModelError as error:
        raise Refusal(f"{where}: {error.message}") from None
    except (ValueError, ArithmeticError) as error:
        raise Refusal(f"{where}: the pipeline cannot compute this model's features: {error}") from None


def check_version(registry: Registry, version: str) -> dict[str, Any]:
    """A version in the registry that can serve; its metadata. Refusal otherwise."""
    check_version_name(version)
    meta = metadata(registry, version)
    tflite = read_file(registry, version, MODEL_FILE)
    if tflite is None:
        raise Refusal(f"{registry.uri(version)} has no {MODEL_FILE}.")
    check_model(tflite, meta, registry.uri(version))
    return meta


def push(registry: Registry, folder: Path, version: str | None = None) -> dict[str, Any]:
    """Copy a model folder into the registry as `version` (default: its metadata's); checked first.

    metadata.json is written last, so a version is listed only once its model is in place.
    """
    folder = Path(folder)
    files = {name: folder / name for name in (MODEL_FILE, METADATA_FILE)}
    missing = [name for name, path in files.items() if not path.is_file()]
    if missing:
        raise Refusal(f"{folder} is not a model folder: it lacks {', '.join(missing)}.")
    try:
        meta = json.loads(files[METADATA_FILE].read_text())
    except (UnicodeDecodeError, ValueError) as error:
        raise Refusal(f"{files[METADATA_FILE]} is not valid JSON: {error}") from None
    if not isinstance(meta, dict):
        raise Refusal(f"{files[METADATA_FILE]} is not a JSON object.")
    if meta.get("name") != registry.name:
        raise Refusal(f"{folder} holds model {meta.get('name')!r}; this registry is {registry.name!r}.")
    version = check_version_name(version or str(meta.get("version") or ""))
    meta = {**meta, "version": version}
    tflite = files[MODEL_FILE].read_bytes()
    check_model(tflite, meta, str(folder))
    if read_file(registry, version, METADATA_FILE) is not None:
        raise Refusal(f"{registry.name} {version} exists already; versions are immutable, push a new one.")
    _write_file(registry, version, MODEL_FILE, tflite, create_only=False)
    _write_file(registry, version, METADATA_FILE, json.dumps(meta, indent=2).encode(), create_only=True)
    return meta
