"""`coughcloud stats`: the pipeline's recent results summarized (counts, latency, labels).

Reads the results collection of the target (the local stack's `.local/stack.env` when it
exists, else the environment, as `coughcloud result` does) with one Firestore query on
`updated_at`, and prints `shared.stats.summary` as a table or JSON; `--plot` adds PNGs.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

from coughcloud.commands.client import add_target_argument, configure_target
from shared.pipeline import results
from shared.stats.summary import format_table, summarize


def register(subparsers: argparse._SubParsersAction) -> None:
    stats = subparsers.add_parser("stats", help="summarize the results of the last N minutes")
    stats.add_argument("--minutes", type=_positive, default=60.0, help="window length (default: 60)")
    stats.add_argument("--format", choices=("table", "json"), default="table")
    stats.add_argument("--plot", type=Path, metavar="DIR", help="also write PNG charts into DIR")
    add_target_argument(stats)
    stats.set_defaults(func=run_stats)


def _positive(text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {text!r}") from None
    if not minutes > 0:
        raise argparse.ArgumentTypeError(f"the window must be positive, not {text}")
    return minutes


def run_stats(args: argparse.Namespace) -> int:
    configure_target(args.env)
    until = results.now()
    summary = summarize(results.updated_since(until - timedelta(minutes=args.minutes)), until, args.minutes)
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    else:
        print(format_table(summary))
    if args.plot is not None:
        from shared.stats.plot import write_charts

        for path in write_charts(summary, args.plot):
            print(f"wrote {path}", file=sys.stderr)  # stdout stays the summary alone
    return 0
