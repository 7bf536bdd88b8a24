"""`coughcloud models push`: copy a model folder into the registry as a new version.

The registry's only write, kept out of shared/ (every function deploys shared/, and
deployed code never writes to Storage: tests/reliability/test_security_static.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.registry.artifacts import (
    METADATA_FILE,
    Registry,
    bucket_and_prefix,
    check_model,
    check_version_name,
    model_file_of,
    read_file,
    read_json_object,
    storage_bucket,
)
from shared.registry.pointer import Refusal


def _write_file(registry: Registry, version: str, filename: str, data: bytes, create_only: bool) -> None:
    """Write one file; `create_only` (metadata.json) makes two pushes of one version unable to both land."""
    if registry.root.startswith("gs://"):
        from google.api_core import exceptions

        name = f"{bucket_and_prefix(registry.root)[1]}/{version}/{filename}"
        try:
            storage_bucket(registry.root).blob(name).upload_from_string(
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


def push(registry: Registry, folder: Path, version: str | None = None) -> dict[str, Any]:
    """Copy a model folder into the registry as `version` (default: its metadata's); checked first.

    metadata.json is written last, so a version is listed only once its model is in place.
    """
    folder = Path(folder)
    metadata_file = folder / METADATA_FILE
    if not metadata_file.is_file():
        raise Refusal(f"{folder} is not a model folder: it lacks {METADATA_FILE}.")
    meta = read_json_object(metadata_file)
    model_file = model_file_of(meta, str(folder))
    if not (folder / model_file).is_file():
        raise Refusal(f"{folder} is not a model folder: it lacks {model_file}.")
    if meta.get("name") != registry.name:
        raise Refusal(
            f"{folder} holds model {meta.get('name')!r}, but this deployment serves {registry.name!r} "
            f"(MODEL_URI's registry {registry.root}). To serve another model, deploy with Terraform's "
            "model_name set to its name, or start the local stack with `coughcloud up --model DIR`."
        )
    version = check_version_name(version or str(meta.get("version") or ""))
    meta = {**meta, "version": version}
    model = (folder / model_file).read_bytes()
    check_model(model, meta, str(folder))
    if read_file(registry, version, METADATA_FILE) is not None:
        raise Refusal(f"{registry.name} {version} exists already; versions are immutable, push a new one.")
    _write_file(registry, version, model_file, model, create_only=False)
    _write_file(registry, version, METADATA_FILE, json.dumps(meta, indent=2).encode(), create_only=True)
    return meta
