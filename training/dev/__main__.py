"""Score a model folder on the development set: `python -m training.dev MODEL_DIR [--record]`.

Prints the cough recall (called a cough at all, dry/wet right of those) per recipe and the
share of the development packages' real non-coughs called a cough. `--record` writes the
figures under `metrics.dev` of the folder's metadata.json, so a release says what it was
chosen on. Looking here is free (that is what the set is for); the held-out set is not.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from shared.ml.model import METADATA_FILE, MODEL_FILE, CoughModel
from training import dev
from training.evaluate import held_out_cough_metrics, read_json, real_metrics, served_label, write_json
from training.real_sounds import load_source
from training.sources import DEV_SOURCES, ensure_installed

DEV_KEY = "dev"


def score(folder: Path, per_label: int = dev.PER_LABEL, real: bool = True) -> dict[str, Any]:
    """The model in `folder` on the development coughs (and, with `real`, the development packages)."""
    model = CoughModel((folder / MODEL_FILE).read_bytes(), read_json(folder / METADATA_FILE), str(folder))
    coughs = dev.generate(per_label)
    record: dict[str, Any] = {
        "coughs": held_out_cough_metrics(
            [clip.label for clip in coughs],
            [served_label(model, clip.samples) for clip in coughs],
            {"recipe": [clip.source.split(":")[1] for clip in coughs]},
        ),
        "command": f"python -m training.dev {folder}",
    }
    if real:
        ensure_installed(DEV_SOURCES)
        clips = [
            clip for source in DEV_SOURCES for clip in load_source(source, model.spec.sample_rate, seed=0)
        ]
        record["real"] = real_metrics(
            [clip.source.split(":", 1)[0] for clip in clips],
            [served_label(model, clip.samples) for clip in clips],
            {source.package: source.kind for source in DEV_SOURCES},
        )
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=score.__doc__)
    parser.add_argument("folder", type=Path, metavar="MODEL_DIR")
    parser.add_argument("--record", action="store_true", help="write metrics.dev into metadata.json")
    args = parser.parse_args()
    record = score(args.folder)
    coughs, real = record["coughs"], record["real"]
    print(
        f"{args.folder}: development coughs called a cough {coughs['called_cough_rate']:.1%} of "
        f"{coughs['clips']}, dry/wet right {coughs['dry_wet_right_of_called']:.1%} of those; "
        f"development real non-coughs called a cough {real['called_cough_rate']:.1%} of {real['clips']}"
    )
    for recipe, figures in coughs["by_recipe"].items():
        called, right = figures["called_cough_rate"], figures["dry_wet_right_of_called"]
        print(f"  {recipe}: {called:.1%} called a cough, {right:.1%} dry/wet right")
    if args.record:
        path = args.folder / METADATA_FILE
        metadata = read_json(path)
        metadata.setdefault("metrics", {})[DEV_KEY] = record
        write_json(path, metadata)


if __name__ == "__main__":
    main()
