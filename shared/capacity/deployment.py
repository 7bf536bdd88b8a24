"""The deployment as infra/terraform describes it, read offline (HCL parsed by checkov's hcl2).

`Deployment.read(tfvars)` takes the variables' defaults, overrides them with a tfvars file as
`terraform apply -var-file` would, and resolves what the plan needs: each function's sizing
(local.sizing_defaults merged with var.function_sizing and var.min_instances, as
functions.tf does), the push subscriptions' retry policy and delivery attempts, and which
fields of `results` Firestore indexes. tests/infra reads the Terraform through the same
functions.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[2]
TF_DIR = REPO / "infra" / "terraform"
COST_SCRIPT = REPO / "infra" / "cost.py"
# Fields of results/{key} whose values only ever rise (timestamps, the object generation):
# indexed, they cap the collection at Firestore's sequential-write limit.
SEQUENTIAL_FIELDS = ("created_at", "updated_at", "generation")
_VAR = re.compile(r"\$\{var\.([a-z0-9_]+)\}")


def unwrap(value: Any) -> Any:
    """hcl2 wraps every attribute value in a one-element list; take it out."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


@functools.cache
def parsed(tf_dir: Path = TF_DIR) -> dict[str, list[Any]]:
    """Every top-level block of the *.tf files in `tf_dir`, merged by kind."""
    merged: dict[str, list[Any]] = {}
    for path in sorted(tf_dir.glob("*.tf")):
        with path.open() as handle:
            for key, blocks in hcl2.load(handle).items():
                merged.setdefault(key, []).extend(blocks)
    return merged


def resources(kind: str, tf_dir: Path = TF_DIR) -> dict[str, dict[str, Any]]:
    """Every `resource "<kind>" "<name>"` block, by name."""
    found: dict[str, dict[str, Any]] = {}
    for block in parsed(tf_dir).get("resource", []):
        found.update(block.get(kind, {}))
    return found


def locals_(tf_dir: Path = TF_DIR) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for block in parsed(tf_dir).get("locals", []):
        merged.update({k: unwrap(v) for k, v in block.items() if not k.startswith("__")})
    return merged


def variable_defaults(tf_dir: Path = TF_DIR) -> dict[str, Any]:
    """Each variable's default (variables without one are left out)."""
    return {
        name: unwrap(body["default"])
        for block in parsed(tf_dir).get("variable", [])
        for name, body in block.items()
        if "default" in body
    }


def variable_default(name: str, tf_dir: Path = TF_DIR) -> Any:
    defaults = variable_defaults(tf_dir)
    if name not in defaults:
        raise KeyError(f"no variable {name!r} with a default in {tf_dir}")
    return defaults[name]


def read_tfvars(path: Path) -> dict[str, Any]:
    """A tfvars file's assignments; a clear error for a file that is not HCL."""
    try:
        with path.open() as handle:
            return {name: unwrap(value) for name, value in hcl2.load(handle).items()}
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror}") from None
    except Exception as error:  # lark's parse errors share no public base class
        raise ValueError(f"{path} is not a tfvars file: {type(error).__name__}: {error}") from None


@functools.cache
def cost_script() -> ModuleType:
    """infra/cost.py (a script, not a package): the prices and per-upload operation counts."""
    spec = importlib.util.spec_from_file_location("infra_cost", COST_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def _seconds(text: str) -> float:
    """A Terraform duration such as "10s"."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)s", str(text))
    if match is None:
        raise ValueError(f"not a duration in seconds: {text!r}")
    return float(match.group(1))


@dataclass(frozen=True)
class Deployment:
    """What the plan needs to know of one configuration of infra/terraform."""

    sizing: dict[str, Any]  # function → infra/cost.py's Sizing
    max_delivery_attempts: int  # Pub/Sub's, for the features messages predict is pushed
    push_min_backoff_s: float
    push_max_backoff_s: float
    sequential_fields_indexed: tuple[str, ...]
    variables: dict[str, Any]
    tf_dir: Path

    @classmethod
    def read(cls, tfvars: Path | None = None, tf_dir: Path = TF_DIR) -> Deployment:
        variables = variable_defaults(tf_dir)
        if tfvars is not None:
            variables.update(read_tfvars(tfvars))
        return cls(
            sizing=_sizing(tf_dir, variables),
            max_delivery_attempts=_push_attempts(tf_dir, variables),
            push_min_backoff_s=_retry_policy(tf_dir, variables, "minimum_backoff"),
            push_max_backoff_s=_retry_policy(tf_dir, variables, "maximum_backoff"),
            sequential_fields_indexed=_indexed_sequential_fields(tf_dir),
            variables=variables,
            tf_dir=tf_dir,
        )


def _resolve(value: Any, variables: dict[str, Any]) -> Any:
    """A literal; `${var.name}` is the variable's value, and inside a longer string its text."""
    if not isinstance(value, str):
        return value
    whole = _VAR.fullmatch(value)
    if whole:
        return variables[whole.group(1)]
    return _VAR.sub(lambda m: str(variables[m.group(1)]), value)


def _sizing(tf_dir: Path, variables: dict[str, Any]) -> dict[str, Any]:
    sizing_class = cost_script().Sizing
    overrides = variables.get("function_sizing") or {}
    warm = variables.get("min_instances") or {}
    unknown = set(overrides) | set(warm)
    table = locals_(tf_dir)["sizing_defaults"]
    if unknown - set(table):
        raise ValueError(
            f"tfvars size functions that do not exist: {', '.join(sorted(unknown - set(table)))}"
        )
    sizing = {}
    for name, defaults in table.items():
        row = {**defaults, **{k: v for k, v in (overrides.get(name) or {}).items() if v is not None}}
        row["min_instances"] = warm.get(name, defaults["min_instances"])
        sizing[name] = sizing_class(
            memory=str(row["memory"]),
            cpu=str(row["cpu"]),
            timeout_s=float(row["timeout_s"]),
            concurrency=int(row["concurrency"]),
            min_instances=int(row["min_instances"]),
            max_instances=int(row["max_instances"]),
        )
    return sizing


def _retry_policy(tf_dir: Path, variables: dict[str, Any], field: str) -> float:
    """The push subscriptions' retry_policy field (pubsub.tf), in seconds."""
    policy = unwrap(resources("google_pubsub_subscription", tf_dir)["push"]["retry_policy"])
    return _seconds(_resolve(unwrap(policy[field]), variables))


def _push_attempts(tf_dir: Path, variables: dict[str, Any]) -> int:
    """Deliveries before Pub/Sub dead-letters a features message (its dead_letter_policy)."""
    dynamic = unwrap(resources("google_pubsub_subscription", tf_dir)["push"]["dynamic"])
    policy = unwrap(unwrap(dynamic["dead_letter_policy"])["content"])
    return int(_resolve(unwrap(policy["max_delivery_attempts"]), variables))


def _indexed_sequential_fields(tf_dir: Path) -> tuple[str, ...]:
    """SEQUENTIAL_FIELDS of `results` that no `google_firestore_field` exempts from indexing."""
    exempt = set()
    for body in resources("google_firestore_field", tf_dir).values():
        if unwrap(body["collection"]) != "results" or "index_config" not in body:
            continue
        index_config = unwrap(body["index_config"]) or {}
        if index_config.get("indexes"):
            continue  # an index_config that lists indexes keeps them
        exempt.update(_for_each_fields(body, tf_dir))
    return tuple(field for field in SEQUENTIAL_FIELDS if field not in exempt)


def _for_each_fields(body: dict[str, Any], tf_dir: Path) -> list[str]:
    """The field a google_firestore_field names, or each of a `for_each = toset(local.X)`."""
    field = unwrap(body["field"])
    if field != "${each.key}":
        return [field]
    match = re.fullmatch(r"\$\{toset\(local\.([a-z0-9_]+)\)\}", unwrap(body["for_each"]))
    if match is None:
        raise ValueError(f"cannot read the for_each of a google_firestore_field: {body['for_each']!r}")
    return list(unwrap(locals_(tf_dir)[match.group(1)]))


def sequential_index_ranges(deployment: Deployment) -> float:
    """Index ranges a rising value of `results` is written into, each capped at 500 writes a second:
    1 with a single-field index on one; STATS_SHARDS when a composite index leads with `shard`;
    none (infinite) when no index holds one."""
    from shared.pipeline.results import STATS_SHARDS

    if deployment.sequential_fields_indexed:
        return 1
    ranges = float("inf")  # an index led by `owner` has a range per visitor: no hot range
    for body in resources("google_firestore_index", deployment.tf_dir).values():
        fields = [unwrap(f["field_path"]) for f in body["fields"]]
        if unwrap(body["collection"]) == "results" and any(f in SEQUENTIAL_FIELDS for f in fields):
            lead = {"shard": STATS_SHARDS, "owner": float("inf")}.get(fields[0], 1)
            ranges = min(ranges, lead)
    return ranges
