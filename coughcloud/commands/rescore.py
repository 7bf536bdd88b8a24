"""`coughcloud rescore --model V`: score stored recordings with version V, as `scores.V` on their results.

A bounded job (--limit scores a run), paced (--rate scores a second), paged, and resumable:
its checkpoint (`.local/rescore/<V>-<prefix hash>.json` by default) holds the last name done,
so running the same command again goes on from there (--restart starts over). It never writes
into the uploads bucket and never publishes, so it cannot re-trigger the pipeline. Compare the
versions afterwards with `coughcloud models compare`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from coughcloud.commands.client import add_target_argument, configure_target
from local_stack.processes import LOCAL_DIR
from shared.config import settings
from shared.ml.model import load_model
from shared.registry import artifacts
from shared.registry.artifacts import default_location
from shared.registry.pointer import Refusal
from shared.registry.rescore import Checkpoint, rescore

MAX_LIMIT = 100_000


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser("rescore", help="score stored recordings with another model version")
    command.add_argument("--model", required=True, metavar="VERSION", help="the version to score with")
    command.add_argument("--prefix", default="", help="only uploads whose name starts with this")
    command.add_argument("--limit", type=_bounded_int, default=1000, help=f"scores this run (1-{MAX_LIMIT})")
    command.add_argument("--rate", type=_positive, default=5.0, help="scores a second at most (default 5)")
    command.add_argument("--page-size", type=_bounded_int, default=50, help="documents a query")
    command.add_argument("--checkpoint", type=Path, help="checkpoint file (default under .local/rescore/)")
    command.add_argument("--restart", action="store_true", help="ignore the checkpoint and start over")
    add_target_argument(command)
    command.set_defaults(func=run_rescore)


def _bounded_int(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"a whole number from 1 to {MAX_LIMIT}, not {text!r}")
    return int(text)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError(f"a rate above 0 and at most 1000 a second, not {text}")
    return value


def default_checkpoint(version: str, prefix: str) -> Path:
    digest = hashlib.sha256(f"{settings().GOOGLE_CLOUD_PROJECT}/{prefix}".encode()).hexdigest()[:12]
    return LOCAL_DIR / "rescore" / f"{version}-{digest}.json"


def run_rescore(args: argparse.Namespace) -> int:
    configure_target(args.env)
    registry = default_location(settings().MODEL_URI).registry
    try:
        artifacts.check_version(registry, args.model)
    except Refusal as refusal:
        print(f"coughcloud rescore: {refusal}", file=sys.stderr)
        return 1
    model = load_model(registry.uri(args.model))
    path = args.checkpoint or default_checkpoint(args.model, args.prefix)
    try:
        checkpoint = (
            Checkpoint(args.model, args.prefix)
            if args.restart
            else Checkpoint.load(path, args.model, args.prefix)
        )
    except ValueError as error:
        print(f"coughcloud rescore: {error}", file=sys.stderr)
        return 1
    started_with = checkpoint.scored
    pages = rescore(model, checkpoint, lambda c: c.save(path), limit=args.limit, rate=args.rate,
                    page_size=args.page_size)  # fmt: skip
    for progress in pages:
        print(f"scored {progress.scored - started_with}, up to {progress.after!r}", file=sys.stderr)
    summary = {"version": args.model, "prefix": args.prefix, "scored": checkpoint.scored - started_with,
               "scored_in_total": checkpoint.scored, "skipped": checkpoint.skipped, "after": checkpoint.after,
               "finished": checkpoint.finished, "checkpoint": str(path)}  # fmt: skip
    print(json.dumps(summary, indent=2))
    return 0
