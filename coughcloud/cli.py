"""`coughcloud` console script: one sub-command per module in `coughcloud/commands/`.

Each command module exposes `register(subparsers)`, which adds its parser and sets
`func` to a callable taking the parsed arguments and returning the exit code.
Modules are imported lazily per command, so `coughcloud classify` never pays for
the imports of `coughcloud train`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# command name -> module in coughcloud.commands
COMMANDS: dict[str, str] = {
    "classify": "classify",
    "train": "train",
    "up": "stack",
    "down": "stack",
    "upload": "client",
    "result": "client",
    "login": "login",
    "watch": "client",
    "stats": "stats",
    "models": "models",
    "feedback": "feedback",
    "rescore": "rescore",
    "capacity": "capacity",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coughcloud", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    modules = [COMMANDS[only]] if only in COMMANDS else dict.fromkeys(COMMANDS.values())
    for module in modules:
        importlib.import_module(f"coughcloud.commands.{module}").register(subparsers)
    return parser


# What a command that talks to a deployment says when it finds none (one line, no traceback).
NO_TARGET = (
    "needs a running local stack or Google Cloud credentials and found neither: start the stack "
    "(`make run`, or `coughcloud up --detach`), point --env at a stack.env, or set "
    "GOOGLE_CLOUD_PROJECT and run `gcloud auth application-default login`"
)


def _no_target(error: BaseException) -> str | None:
    """The one-line reason when `error` (or what caused it) means no stack and no credentials."""
    import google.auth.exceptions  # only on this failure path: classify stays light

    while error is not None:
        if isinstance(error, google.auth.exceptions.DefaultCredentialsError):
            return NO_TARGET
        if isinstance(error, google.auth.exceptions.RefreshError):
            return "Google Cloud refused these credentials: run `gcloud auth application-default login`"
        error = error.__cause__ or error.__context__
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    first = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(first)
    args = parser.parse_args(argv)  # exits with 2 on bad usage
    try:
        return int(args.func(args) or 0)
    except Exception as error:
        reason = _no_target(error)
        if reason is None:
            raise
        command = " ".join(filter(None, (args.command, getattr(args, "action", None))))
        print(f"coughcloud {command}: {reason}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
