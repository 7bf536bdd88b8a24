"""`coughcloud classify FILE...`: classify recordings in-process, offline, with the shipped model.

One JSON object per line per file (or a table with `--format table`). Exit status:
0 when every file was classified, 1 when any failed, 2 for bad usage (argparse).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from shared.config import settings
from shared.errors import InputError, ModelError
from shared.ml.checks import check_upload_size
from shared.ml.classify import classify_bytes
from shared.ml.model import CoughModel, load_model

# The one code that is not in the pipeline's contract: the CLI could not read the file.
UNREADABLE_FILE = "unreadable_file"
# What the table says once under its rows, by the model's training_data.
MODEL_NOTE = {
    "synthetic": "a demonstration model trained on synthetic sounds",
    "mixed": "a demonstration model trained partly on synthetic sounds",
    "real": "a model trained on real recordings",
}
MODEL_CARD = "docs/concepts/model.md"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "classify",
        help="classify recordings offline with a model (one of its labels, or inconclusive)",
        description=__doc__.splitlines()[0].split(": ", 1)[1],
    )
    parser.add_argument(
        "files", nargs="+", metavar="FILE", help="audio files (wav, flac, ogg, webm, m4a, mp3, …)"
    )
    parser.add_argument(
        "--model", help="model folder or gs://bucket/prefix (default: MODEL_URI, the shipped model)"
    )
    parser.add_argument(
        "--format", choices=("json", "table"), default="json", help="output format (default: json)"
    )
    parser.set_defaults(func=run)


def classify_file(path: str, model: CoughModel | ModelError) -> dict[str, Any]:
    """The result for one file: a missing file or a model that failed to load is a failed result."""
    if isinstance(model, ModelError):
        return _failed(path, model.to_dict())
    try:
        check_upload_size(Path(path).stat().st_size)  # a huge file is refused before it is read
        data = Path(path).read_bytes()
    except InputError as error:
        return _failed(path, error.to_dict())
    except OSError as error:
        return _failed(
            path, {"code": UNREADABLE_FILE, "message": f"Cannot read {path}: {error.strerror or error}."}
        )
    return {"file": path, **classify_bytes(data, model)}


def _failed(path: str, error: dict[str, str]) -> dict[str, Any]:
    return {
        "file": path,
        "status": "failed",
        "label": None,
        "confidence": None,
        "probabilities": None,
        "error": error,
    }


def _table_row(result: dict[str, Any], labels: tuple[str, ...]) -> list[str]:
    probabilities = result.get("probabilities") or {}
    confidence = result.get("confidence")
    error = result.get("error") or {}
    return [
        result["file"],
        result["status"],
        result.get("label") or "-",
        "-" if confidence is None else f"{confidence:.3f}",
        *(f"{probabilities[label]:.3f}" if label in probabilities else "-" for label in labels),
        f"{error['code']}: {error['message']}" if error else "",
    ]


def _write_table(results: list[dict[str, Any]], labels: tuple[str, ...], out: TextIO) -> None:
    header = ["FILE", "STATUS", "LABEL", "CONFIDENCE", *(label.upper() for label in labels), "ERROR"]
    rows = [header, *(_table_row(result, labels) for result in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)))
        out.write(f"  {row[-1]}".rstrip() + "\n")


def model_note(model: CoughModel) -> str:
    """The one plain line that says what the model is and is not."""
    return (
        f"Note: {model.name} {model.version} is {MODEL_NOTE[model.training_data]}, "
        f"not a medical diagnosis; see the model card: {MODEL_CARD}."
    )


def run(args: argparse.Namespace) -> int:
    uri = args.model or settings().MODEL_URI
    try:
        model: CoughModel | ModelError = load_model(uri)
    except ModelError as error:
        model = error
    labels = model.labels if isinstance(model, CoughModel) else ()
    results = []
    for path in args.files:
        result = classify_file(path, model)
        results.append(result)
        if args.format == "json":
            sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    if args.format == "table":
        _write_table(results, labels, sys.stdout)
        if isinstance(model, CoughModel):
            sys.stdout.write(model_note(model) + "\n")
    return 0 if all(result["status"] == "done" for result in results) else 1
