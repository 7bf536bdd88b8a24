"""`coughcloud train`: train the cough model, export it to LiteRT and write its report.

TensorFlow is imported only when the command runs (it takes seconds), never for `--help`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from shared.config import REPO_ROOT
from training import GENERATOR_NAMES
from training.sources import SOURCE_SETS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the model (synthetic recipes or a COUGHVID-style folder) and export it",
        description=__doc__.splitlines()[0].split(": ", 1)[1],
    )
    parser.add_argument(
        "--data",
        default="recipes",
        help="'recipes' (default: training/recipes.py, 1.2.0 to 1.5.0), 'synthetic' (training/synthetic.py, "
        "1.0.0 and 1.1.0) or a COUGHVID-style folder (metadata CSV + <uuid>.webm/.ogg/.wav)",
    )
    parser.add_argument(
        "--out", type=Path, help="model folder to write (default: .local/models/<name>/<version>)"
    )
    parser.add_argument("--name", default="cough-classifier", help="model name (default: cough-classifier)")
    parser.add_argument("--version", default="dev", help="model version (default: dev)")
    parser.add_argument("--epochs", type=_positive, default=25, help="training epochs (default: 25)")
    parser.add_argument("--seed", type=int, default=0, help="random seed for data, split and training")
    parser.add_argument(
        "--per-class", type=_positive, default=600, help="synthetic clips per class (default: 600)"
    )
    parser.add_argument("--limit", type=_positive, help="use at most this many real cough clips (--data)")
    parser.add_argument(
        "--sources",
        choices=sorted(SOURCE_SETS),
        default="full",
        help="real not-a-cough Debian packages (training/sources.py), apt-installed when missing: "
        "'full' (default, the shipped model) or 'small' (two packages under 1 MB, a quick run)",
    )
    parser.add_argument("--source-limit", type=_positive, help="at most this many clips per real source")
    parser.add_argument(
        "--filters",
        type=_filters,
        help="the network's size: filters of its three conv layers, e.g. 64,96,128 (default: 32,48,64)",
    )
    parser.add_argument(
        "--members",
        type=_positive,
        default=1,
        help="networks trained from different initial weights and averaged into one model (default: 1)",
    )
    parser.add_argument(
        "--threshold",
        type=float,
        help="confidence below which the answer is inconclusive (default: chosen on the validation clips)",
    )
    parser.set_defaults(func=run)


def _positive(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _filters(text: str) -> tuple[int, ...]:
    widths = tuple(_positive(part) for part in text.split(","))
    if len(widths) != 3:
        raise argparse.ArgumentTypeError(f"three comma-separated widths, got {text}")
    return widths


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    from training.export import ParityError
    from training.train import TrainConfig
    from training.train import run as train

    if args.data not in GENERATOR_NAMES and not Path(args.data).is_dir():
        print(
            f"coughcloud train: --data {args.data}: not one of {', '.join(GENERATOR_NAMES)} and not a folder",
            file=sys.stderr,
        )
        return 2
    out = args.out or REPO_ROOT / ".local" / "models" / args.name / args.version
    config = TrainConfig(
        out=out,
        data=args.data,
        name=args.name,
        version=args.version,
        epochs=args.epochs,
        seed=args.seed,
        per_class=args.per_class,
        threshold=args.threshold,
        limit=args.limit,
        sources=args.sources,
        source_limit=args.source_limit,
        members=args.members,
        **({"filters": args.filters} if args.filters else {}),
    )
    try:
        summary = train(config)
    except (ParityError, ValueError, subprocess.CalledProcessError) as error:
        print(f"coughcloud train: {error}", file=sys.stderr)
        return 1
    metrics = summary["metrics"]
    print(
        json.dumps(
            {
                "model": summary["out"],
                "threshold": metrics["threshold"]["chosen"],
                "synthetic_accuracy": metrics["synthetic"]["accuracy"],
                "expected_calibration_error": metrics["calibration"]["ece"],
                "inconclusive_rate": metrics["inconclusive_rate"],
                "goals": metrics["goals"],
                "litert_keras_max_abs_diff": metrics["litert_keras_max_abs_diff"],
                "report": summary["report"],
            },
            indent=2,
        )
    )
    return 0
