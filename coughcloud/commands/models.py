"""`coughcloud models …`: the model registry, against the local stack or Google Cloud alike.

Versions live in the models bucket (`<name>/<version>/`, the parent folder of MODEL_URI);
one Firestore document per model name says which version is `champion`, which one is a
`canary` (and for what percent of uploads) and which one runs as `shadow`. The functions
re-read it within MODEL_POINTER_TTL_S seconds, so a change here needs no deploy. Every
change is recorded (who, when, from what to what) and shown by `models history`; a refused
change prints why and changes nothing (exit code 1).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coughcloud.commands.client import add_target_argument, configure_target
from coughcloud.model_push import push
from shared.config import settings
from shared.registry import artifacts, pointer, store
from shared.registry.artifacts import Location, default_location
from shared.registry.pointer import ModelPointer, Refusal

PUSH_CONTRACT = """Copy a model folder into the registry as a new, immutable version.

The folder holds metadata.json and the model file it names in `model_file`: model.tflite
(LiteRT, the default) or model.onnx (ONNX Runtime). `coughcloud models import` writes such
a folder. Before anything is written the version is checked as serving will use it: the
sha256 of the model file, a feature spec (`features`) the pipeline computes, an input the
spec's features fit and one output per label, and on probe clips outputs that are finite
and, when metadata says "output": "probabilities", probability vectors (a logits model must
say "output": "logits"; serving then applies a softmax). A refused push changes nothing.
"""

IMPORT_CONTRACT = """Turn a trained model and a SPEC.json into a model folder that serving loads.

SRC: a Keras model (.keras, .h5 or a SavedModel folder: converted to LiteRT), a .tflite or an
.onnx (copied). SPEC.json holds name, version, labels, threshold and features (the feature
spec, librosa's parameter names; unset fields take librosa 0.11's defaults), and may hold
output ("probabilities", the default, or "logits"), negative_labels, display_names,
training_data ({"kind": "real"} by default) and model_card.

Checked before DIR is written: the model takes the input the spec gives and gives one value
per label; on probe clips its outputs are finite and, when probabilities are declared,
probability vectors (a logits model so declared is refused). With --check CLIP ...: on each
clip, decoded as serving decodes it, serving's numpy features against librosa's, and the
served probabilities against the source framework (Keras, LiteRT or ONNX Runtime) run on
librosa's features. It prints the largest differences; above tolerance (features 1e-3, or
1e-5 of the peak for kind mel; probabilities 2e-3) nothing is written and it exits 1.
The fields, their defaults and two worked examples: docs/guides/bring-your-own-model.md.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="list, push, promote, canary, shadow, roll back models")
    actions = models.add_subparsers(dest="action", metavar="ACTION", required=True)

    listing = actions.add_parser(
        "list",
        help="versions, their metrics (held-out coughs called a cough, dry/wet right, real non-coughs "
        "called a cough) and which alias points where",
    )
    listing.add_argument("--format", choices=("table", "json"), default="table")
    listing.set_defaults(func=run_list)

    push = actions.add_parser(
        "push",
        help="copy a model folder into the registry (checked first)",
        description=PUSH_CONTRACT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    push.add_argument(
        "folder", type=Path, metavar="DIR", help="a model folder: metadata.json and the model file it names"
    )
    push.add_argument("--version", help="the version to push it as (default: its metadata's)")
    push.set_defaults(func=run_push)

    importing = actions.add_parser(
        "import",
        help="turn a trained model (Keras, LiteRT, ONNX) and a SPEC.json into a checked model folder",
        description=IMPORT_CONTRACT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importing.add_argument(
        "src", type=Path, metavar="SRC", help=".keras, .h5, SavedModel folder, .tflite or .onnx"
    )
    importing.add_argument("--spec", type=Path, required=True, metavar="SPEC.json", help="what the model is")
    importing.add_argument("--out", type=Path, required=True, metavar="DIR", help="a new folder to write")
    importing.add_argument(
        "--check", type=Path, nargs="+", default=[], metavar="CLIP", help="recordings to compare serving on"
    )
    importing.set_defaults(func=run_import)

    promote = actions.add_parser(
        "promote", help="make VERSION the champion (the old one can be rolled back to)"
    )
    promote.add_argument("version", metavar="VERSION")
    promote.set_defaults(func=run_promote)

    canary = actions.add_parser("canary", help="send PERCENT %% of uploads to VERSION (sticky per upload)")
    canary.add_argument("version", metavar="VERSION", nargs="?")
    canary.add_argument("--percent", type=int, help="0-100")
    canary.add_argument("--off", action="store_true", help="stop the canary")
    canary.set_defaults(func=run_canary)

    shadow = actions.add_parser("shadow", help="also score every upload with VERSION, on the result only")
    shadow.add_argument("version", metavar="VERSION", nargs="?")
    shadow.add_argument("--off", action="store_true", help="stop the shadow")
    shadow.set_defaults(func=run_shadow)

    rollback = actions.add_parser("rollback", help="make the previous champion the champion again")
    rollback.set_defaults(func=run_rollback)

    history = actions.add_parser("history", help="every change: who, when, from what to what")
    history.add_argument("--format", choices=("table", "json"), default="table")
    history.set_defaults(func=run_history)

    compare = actions.add_parser("compare", help="two versions on recent results (served, shadow, rescored)")
    compare.add_argument("a", metavar="A")
    compare.add_argument("b", metavar="B")
    compare.add_argument(
        "--minutes", type=float, default=24 * 60, help="results written or re-scored in the last N minutes"
    )
    compare.add_argument("--format", choices=("table", "json"), default="table")
    compare.add_argument("--plot", type=Path, metavar="DIR", help="also write a PNG into DIR")
    compare.set_defaults(func=run_compare)

    for parser in (listing, push, promote, canary, shadow, rollback, history, compare):
        add_target_argument(parser)


def who() -> str:
    return f"{getpass.getuser()}@{socket.gethostname()}"


def _target(args: argparse.Namespace) -> Location:
    configure_target(args.env)
    return default_location(settings().MODEL_URI)


def _refused(args: argparse.Namespace, refusal: Refusal) -> int:
    print(f"coughcloud models {args.action}: {refusal}", file=sys.stderr)
    print("Nothing was changed.", file=sys.stderr)
    return 1


def _change(
    args: argparse.Namespace, action: str, change: Callable[[ModelPointer], ModelPointer], check: str | None
) -> int:
    """Check the version (when one is named), apply the change, print what it did."""
    location = _target(args)
    registry = location.registry
    try:
        if check is not None:
            artifacts.check_version(registry, check)
        record = store.change_pointer(registry.name, action, change, location.version, who())
    except Refusal as refusal:
        return _refused(args, refusal)
    print(f"{registry.name}: {action}: {_aliases(record.before)} → {_aliases(record.after)}")
    ttl = settings().MODEL_POINTER_TTL_S
    print(f"The functions follow within {ttl:g} s (their pointer cache); nothing is redeployed.")
    return 0


def _aliases(aliases: dict[str, Any] | None) -> str:
    if aliases is None:
        return "(no pointer: MODEL_URI)"
    parts = [f"champion {aliases['champion']}"]
    if aliases.get("canary"):
        parts.append(f"canary {aliases['canary']} {aliases['percent']}%")
    if aliases.get("shadow"):
        parts.append(f"shadow {aliases['shadow']}")
    return ", ".join(parts)


def run_promote(args: argparse.Namespace) -> int:
    return _change(args, "promote", lambda p: pointer.promote(p, args.version), args.version)


def run_canary(args: argparse.Namespace) -> int:
    if args.off:
        if args.version or args.percent is not None:
            return _refused(args, Refusal("--off takes no VERSION or --percent."))
        return _change(args, "canary off", pointer.clear_canary, None)
    if not args.version or args.percent is None:
        return _refused(args, Refusal("give VERSION and --percent N (0-100), or --off."))
    try:
        pointer.check_percent(args.percent)
    except Refusal as refusal:
        return _refused(args, refusal)
    change = lambda p: pointer.set_canary(p, args.version, args.percent)  # noqa: E731
    return _change(args, "canary", change, args.version)


def run_shadow(args: argparse.Namespace) -> int:
    if args.off:
        if args.version:
            return _refused(args, Refusal("--off takes no VERSION."))
        return _change(args, "shadow off", pointer.clear_shadow, None)
    if not args.version:
        return _refused(args, Refusal("give VERSION, or --off."))
    return _change(args, "shadow", lambda p: pointer.set_shadow(p, args.version), args.version)


def run_rollback(args: argparse.Namespace) -> int:
    return _change(args, "rollback", pointer.rollback, None)


def run_push(args: argparse.Namespace) -> int:
    registry = _target(args).registry
    try:
        meta = push(registry, args.folder, args.version)
    except Refusal as refusal:
        return _refused(args, refusal)
    version = meta["version"]
    print(f"pushed {registry.name} {version} to {registry.uri(version)} (sha256 {meta['sha256']})")
    print(f"Next: `coughcloud models canary {version} --percent 10` or `coughcloud models shadow {version}`.")
    return 0


def run_import(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter (Keras sources)
    from coughcloud.model_import import import_model

    try:
        meta = import_model(args.src, args.spec, args.out, args.check)
    except Refusal as refusal:
        print(f"coughcloud models import: {refusal}", file=sys.stderr)
        return 1
    print(f"wrote {meta['name']} {meta['version']} to {args.out} (sha256 {meta['sha256']})")
    print(f"Next: `coughcloud models push {args.out}`.")
    return 0


def _listing(location: Location) -> tuple[ModelPointer, bool, list[dict[str, Any]]]:
    registry = location.registry
    stored = store.read_pointer(registry.name)
    current = stored or ModelPointer(name=registry.name, champion=location.version)
    rows = []
    for version in artifacts.list_versions(registry):
        meta = artifacts.metadata(registry, version)
        metrics = _dict(meta.get("metrics"))
        synthetic = _dict(metrics.get("synthetic"))  # 1.1.0 on: synthetic and held-out real apart
        training = _dict(meta.get("training_data"))
        # The once-per-release look at the held-out data (training/evaluate.py): the same clips for
        # every version, so these columns compare versions; older folders fall back to training's.
        held_out = _dict(metrics.get("held_out"))
        coughs = _dict(held_out.get("coughs"))
        real = _dict(held_out.get("real")) or _dict(metrics.get("held_out_real"))
        rows.append(
            {
                "version": version,
                "aliases": current.alias_of(version),
                "accuracy": synthetic.get("accuracy", metrics.get("accuracy")),
                "inconclusive_rate": metrics.get("inconclusive_rate"),
                "real_non_cough_called_cough": real.get("called_cough_rate"),
                "held_out_cough_recall": coughs.get("called_cough_rate"),
                "held_out_dry_wet_right": coughs.get("dry_wet_right_of_called"),
                "held_out_cough_inconclusive": coughs.get("inconclusive_rate"),
                "training_data": training.get("kind"),
                "labels": meta.get("labels"),
                "sha256": meta.get("sha256"),
            }
        )
    return current, stored is not None, rows


def run_list(args: argparse.Namespace) -> int:
    location = _target(args)
    current, stored, rows = _listing(location)
    if args.format == "json":
        print(json.dumps({"pointer": current.to_dict(), "stored": stored, "versions": rows}, indent=2))
        return 0
    source = "" if stored else "  (no pointer document yet: MODEL_URI's version serves)"
    print(f"{location.registry.name} in {location.registry.root}{source}")
    heading = (
        f"{'version':<16} {'aliases':<28} {'accuracy':>9} {'inconcl.':>9} {'real→cough':>10} "
        f"{'cough→cough':>11} {'dry/wet':>8}"
    )
    print(f"{heading}  training data")
    for row in rows:
        aliases = ", ".join(row["aliases"]) or "-"
        if row["version"] == current.canary:
            aliases = aliases.replace("canary", f"canary {current.percent}%")
        print(
            f"{row['version']:<16} {aliases:<28} {_number(row['accuracy']):>9} "
            f"{_number(row['inconclusive_rate']):>9} {_number(row['real_non_cough_called_cough']):>10} "
            f"{_number(row['held_out_cough_recall']):>11} {_number(row['held_out_dry_wet_right']):>8}  "
            f"{row['training_data'] or '-'}"
        )
    return 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "-"


def run_history(args: argparse.Namespace) -> int:
    location = _target(args)
    entries = store.history(location.registry.name)
    if args.format == "json":
        print(json.dumps(entries, indent=2, default=str))
        return 0
    if not entries:
        print(f"{location.registry.name}: no changes recorded yet.")
    for entry in entries:
        at = entry["at"].isoformat(timespec="seconds") if hasattr(entry["at"], "isoformat") else entry["at"]
        change = f"{_aliases(entry['from'])} → {_aliases(entry['to'])}"
        print(f"{at}  {entry['who']:<24} {entry['action']:<11} {change}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from shared.pipeline import results
    from shared.registry.compare import compare, format_table
    from shared.registry.rescore import scored_since

    _target(args)
    cutoff = results.now() - timedelta(minutes=args.minutes)
    documents = {(d["bucket"], d["name"]): d for d in [*results.updated_since(cutoff), *scored_since(cutoff)]}
    comparison = compare(documents.values(), args.a, args.b)
    if args.format == "json":
        print(json.dumps(comparison, indent=2))
    else:
        print(format_table(comparison))
    if args.plot is not None:
        from shared.registry.compare_plot import write_chart

        print(f"wrote {write_chart(comparison, args.plot)}", file=sys.stderr)
    return 0
