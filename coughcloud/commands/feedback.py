"""`coughcloud feedback export DIR`: the recordings owners labelled, as a COUGHVID-like data set.

DIR gets `metadata_compiled.csv` (one row per recording: `uuid` = its result key,
`cough_type` dry/wet, `cough_detected` 1 for a cough and 0 for not_cough, as
training/coughvid.py reads them) and the recordings as `<uuid><ext>`, read from the uploads
bucket (never written to). `coughcloud train --data DIR` trains on it.
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
from shared.pipeline import results
from shared.registry import feedback

COLUMNS = ("uuid", "cough_type", "cough_detected", "name", "model_label", "model_version", "feedback_at")


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


def _row(key: str, document: dict[str, Any]) -> dict[str, Any]:
    label = document["feedback"]["label"]
    cough = label != feedback.NOT_COUGH
    at = document["feedback"].get("at")
    return {
        "uuid": key,
        "cough_type": label if cough else "",
        "cough_detected": "1.0" if cough else "0.0",
        "name": document.get("name"),
        "model_label": document.get("label"),
        "model_version": (document.get("model") or {}).get("version"),
        "feedback_at": at.isoformat() if hasattr(at, "isoformat") else at,
    }


def run_export(args: argparse.Namespace) -> int:
    from google.api_core import exceptions
    from google.cloud import storage

    config = configure_target(args.env)
    client = storage.Client(project=config.GOOGLE_CLOUD_PROJECT)
    args.directory.mkdir(parents=True, exist_ok=True)
    written: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    with (args.directory / "metadata_compiled.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        since = results.now() - timedelta(days=args.days) if args.days else feedback.EPOCH
        for key, document in feedback.labelled(since):
            blob = client.bucket(document["bucket"]).blob(document["name"], generation=document["generation"])
            try:
                data = blob.download_as_bytes()
            except exceptions.NotFound:
                skipped["recording gone (erased or replaced)"] += 1
                continue
            (args.directory / f"{key}{_extension(document)}").write_bytes(data)
            writer.writerow(_row(key, document))
            written[document["feedback"]["label"]] += 1
    counts = ", ".join(f"{label} {n}" for label, n in sorted(written.items())) or "none"
    print(f"wrote {sum(written.values())} labelled recordings ({counts}) to {args.directory}")
    for reason, n in skipped.items():
        print(f"skipped {n}: {reason}", file=sys.stderr)
    return 0
