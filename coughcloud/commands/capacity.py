"""`coughcloud capacity`: the capacity plan at a rate of uploads (shared/capacity/).

Reads the sizing from infra/terraform (a tfvars file may override it) and the service
times measured in bench/results/, simulates a steady rate or a burst from idle, and prints
per stage the instances needed, latency, 429s, what bites first, the uploads failed by
overload and the cost. Needs no stack and no credentials.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from shared.capacity.plan import format_table, plan


def register(subparsers: argparse._SubParsersAction) -> None:
    capacity = subparsers.add_parser("capacity", help="model the deployment at a rate of uploads")
    capacity.add_argument("--rate", type=_positive, required=True, metavar="R", help="uploads per second")
    capacity.add_argument(
        "--burst-s", type=_positive, metavar="S", help="a burst of S s from idle (default: steady)"
    )
    capacity.add_argument("--tfvars", type=Path, metavar="FILE", help="a tfvars file overriding the defaults")
    capacity.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    capacity.set_defaults(func=run_capacity)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, not {text}")
    return value


def run_capacity(args: argparse.Namespace) -> int:
    if args.tfvars is not None and not args.tfvars.is_file():
        raise SystemExit(f"coughcloud capacity: no tfvars file at {args.tfvars}")
    try:
        result = plan(args.rate, args.burst_s, args.tfvars)
    except ValueError as error:
        raise SystemExit(f"coughcloud capacity: {error}") from None
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
