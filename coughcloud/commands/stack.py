"""`coughcloud up [--detach]` and `coughcloud down`: the local stack on real emulators."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from local_stack.processes import LOCAL_DIR, StartupError
from local_stack.stack import StackOptions, run_foreground, start_detached, stop_detached


def register(subparsers: argparse._SubParsersAction) -> None:
    up = subparsers.add_parser(
        "up",
        help="start the local stack (emulators, functions, Eventarc bridge, upload page)",
        description="Start the local stack in the foreground (Ctrl-C stops it), or in the background "
        "with --detach. Once ready its endpoints are in STATE_DIR/stack.env.",
    )
    up.add_argument("--detach", action="store_true", help="start in the background; return once ready")
    up.add_argument("--cors-origin", action="append", default=[], help="another origin results_api allows")
    up.add_argument("--retry-base", type=float, default=0.5, help="first redelivery backoff, s (doubles)")
    up.add_argument("--retry-max", type=float, default=10.0, help="longest redelivery backoff, s")
    up.add_argument(
        "--pointer-ttl",
        type=float,
        help="seconds the functions cache the model pointer (MODEL_POINTER_TTL_S)",
    )
    up.add_argument(
        "--model",
        type=Path,
        metavar="DIR",
        help="serve this model folder (metadata.json + the model file it names) as the champion, in a "
        "registry of its own name, instead of the shipped versions",
    )
    up.add_argument(
        "--threads",
        type=int,
        help="request threads per function process (default: functions-framework's, 4 per CPU)",
    )
    down = subparsers.add_parser("down", help="stop a stack started with `coughcloud up --detach`")
    for parser in (up, down):
        parser.add_argument(
            "--state-dir", type=Path, default=LOCAL_DIR, help="stack.env, logs, PIDs (default: .local)"
        )
    up.set_defaults(func=run_up)
    down.set_defaults(func=run_down)


def _options(args: argparse.Namespace) -> StackOptions:
    return StackOptions(
        state_dir=args.state_dir.resolve(),
        extra_cors_origins=tuple(args.cors_origin),
        retry_base_s=args.retry_base,
        retry_max_s=args.retry_max,
        pointer_ttl_s=args.pointer_ttl,
        model_dir=args.model.resolve() if args.model else None,
        threads=args.threads,
    )


def run_up(args: argparse.Namespace) -> int:
    options = _options(args)
    if not args.detach:
        return run_foreground(options)
    try:
        state = start_detached(options)
    except StartupError as error:
        print(f"coughcloud up: {error}")
        return 1
    env = state["env"]
    print(f"stack up (PID {state['supervisor']}): API {env['RESULTS_API_URL']}, page {env['FRONTEND_URL']}")
    print(f"endpoints in {os.path.relpath(options.stack_env)}; `coughcloud down` stops it")
    return 0


def run_down(args: argparse.Namespace) -> int:
    options = StackOptions(state_dir=args.state_dir.resolve())
    print("stack stopped" if stop_detached(options) else "no stack was running")
    return 0
