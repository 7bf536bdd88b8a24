"""`coughcloud feedback export DIR`: the recordings owners labelled, a folder per label.

DIR gets the recordings as `<label>/<uuid><ext>` (`uuid` = the result key; the layout Keras'
`audio_dataset_from_directory` reads), read from the uploads bucket (never written to), and
`metadata_compiled.csv`, one row per recording: its `label`, whether that label is one of the
model's `negative_labels`, and COUGHVID's columns as training/coughvid.py reads them
(`cough_type` = the label, `cough_detected` 0 for a negative label and 1 otherwise), so
`coughcloud train --data DIR` trains on it.
"""

from __future__ import annotations

import argparse
import csv
import mimetypes
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from coughcloud.commands.client import add_target_argument, configure_target
from shared.errors import ModelError
from shared.ml.labels import LABEL_PATTERN, LabelSet
from shared.pipeline import results
from shared.registry import artifacts, feedback
from shared.registry.artifacts import Registry, default_location
from shared.registry.pointer import Refusal

COLUMNS = (
    "uuid",
    "label",
    "negative",
    "cough_type",
    "cough_detected",
    "file",
    "name",
    "model_label",
    "model_name",
    "model_version",
    "feedback_at",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("feedback", help="owners' labels on results")
    actions = command.add_subparsers(dest="action", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write labelled recordings as a COUGHVID-like folder")
    export.add_argument("directory", type=Path, metavar="DIR")
    export.add_argument(
        "--days", type=_days, default=None, help="only labels of the last N days (default: all)"
    )
    add_target_argument(export)
    export.set_defaults(func=run_export)


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not days > 0:
        raise argparse.ArgumentTypeError(f"the time range must be positive, not {text}")
    return days


def _extension(document: dict[str, Any]) -> str:
    suffix = PurePosixPath(str(document.get("name") or "")).suffix.lower()
    if suffix and suffix[1:].isalnum():
        return suffix
    return mimetypes.guess_extension(str(document.get("content_type") or "")) or ".audio"


class _Labels:
    """The label set of each result's model: the one the result carries, else (a result written
    before results carried labels) its version's metadata in the target's registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.by_version: dict[str, LabelSet | None] = {}

    def of(self, document: dict[str, Any]) -> LabelSet | None:
        model = document.get("model") or {}
        carried = LabelSet.of_model_info(model)
        if carried is not None or model.get("name") != self.registry.name:
            return carried
        version = str(model.get("version"))
        if version not in self.by_version:
            try:
                meta = artifacts.metadata(self.registry, version)
                self.by_version[version] = LabelSet.from_metadata(meta, self.registry.uri(version))
            except (Refusal, ModelError):
                self.by_version[version] = None
        return self.by_version[version]


def _row(key: str, document: dict[str, Any], labels: LabelSet | None, file: str) -> dict[str, Any]:
    """One CSV row; `negative` and `cough_detected` are left empty when the model's labels are unknown."""
    label = document["feedback"]["label"]
    negative = label in labels.negative if labels is not None else None
    at = document["feedback"].get("at")
    model = document.get("model") or {}
    return {
        "uuid": key,
        "label": label,
        "negative": "" if negative is None else str(negative).lower(),
        "cough_type": "" if negative else label,
        "cough_detected": "" if negative is None else "0.0" if negative else "1.0",
        "file": file,
        "name": document.get("name"),
        "model_label": document.get("label"),
        "model_name": model.get("name"),
        "model_version": model.get("version"),
        "feedback_at": at.isoformat() if hasattr(at, "isoformat") else at,
    }


def run_export(args: argparse.Namespace) -> int:
    from google.api_core import exceptions
    from google.cloud import storage

    config = configure_target(args.env)
    client = storage.Client(project=config.GOOGLE_CLOUD_PROJECT)
    labels = _Labels(default_location(config.MODEL_URI).registry)
    args.directory.mkdir(parents=True, exist_ok=True)
    written: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    with (args.directory / "metadata_compiled.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        since = results.now() - timedelta(days=args.days) if args.days else feedback.EPOCH
        for key, document in feedback.labelled(since):
            label = str(document["feedback"].get("label"))
            if not LABEL_PATTERN.fullmatch(label):  # it names a folder: nothing but a label name
                skipped["feedback label is not a label name"] += 1
                continue
            blob = client.bucket(document["bucket"]).blob(document["name"], generation=document["generation"])
            try:
                data = blob.download_as_bytes()
            except exceptions.NotFound:
                skipped["recording gone (erased or replaced)"] += 1
                continue
            file = Path(label) / f"{key}{_extension(document)}"
            (args.directory / label).mkdir(exist_ok=True)
            (args.directory / file).write_bytes(data)
            writer.writerow(_row(key, document, labels.of(document), file.as_posix()))
            written[label] += 1
    counts = ", ".join(f"{label} {n}" for label, n in sorted(written.items())) or "none"
    print(f"wrote {sum(written.values())} labelled recordings ({counts}) to {args.directory}")
    for reason, n in skipped.items():
        print(f"skipped {n}: {reason}", file=sys.stderr)
    return 0
