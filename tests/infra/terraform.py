"""Reading infra/terraform offline: the HCL (parsed by shared.capacity.deployment) and the code it deploys.

`terraform validate` needs the google provider, which cannot be downloaded here, so the
tests check what they can by reading both sides: the Terraform and functions/ + shared/.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import re
from pathlib import Path
from typing import Any

from shared.capacity.deployment import cost_script, locals_, parsed, resources, unwrap, variable_default
from shared.config import Settings

REPO = Path(__file__).resolve().parents[2]
TF_DIR = REPO / "infra" / "terraform"
FUNCTIONS_DIR = REPO / "functions"
SHARED_DIR = REPO / "shared"

SETTINGS_FIELDS = frozenset(f.name for f in dataclasses.fields(Settings))
_REF = re.compile(r"^\$\{([a-z0-9_]+)\.([a-z0-9_]+)(?:\[\"([a-z0-9_-]+)\"\])?\.([a-z0-9_]+)\}$")
__all__ = ["locals_", "resources", "unwrap", "variable_default"]


def _parsed() -> dict[str, list[Any]]:
    return parsed(TF_DIR)


def reference(expression: str) -> tuple[str, str, str | None, str]:
    """`${google_pubsub_topic.dead_letter["uploads"].name}` → (type, name, key, attribute)."""
    match = _REF.match(expression)
    if not match:
        raise ValueError(f"not a plain resource reference: {expression!r}")
    kind, name, key, attribute = match.groups()
    return kind, name, key, attribute


def resource_attribute(expression: str) -> Any:
    """The literal value a plain reference points at (following a for_each map literal)."""
    kind, name, key, attribute = reference(expression)
    body = resources(kind)[name]
    if key is None:
        return unwrap(body[attribute])
    for_each = unwrap(body["for_each"])
    assert unwrap(body[attribute]) == "${each.value}", f"{kind}.{name}.{attribute} is not each.value"
    return for_each[key]


def deployed_functions() -> dict[str, dict[str, Any]]:
    """local.functions: entry point → its settings (ingress, storage_trigger, env)."""
    return locals_()["functions"]


def function_sizing() -> dict[str, Any]:
    """Each function's sizing defaults, read by infra/cost.py (the cost arithmetic uses them too)."""
    return cost_script().function_sizing()


def function_env(entry_point: str) -> dict[str, str]:
    return {**locals_()["common_env"], **deployed_functions()[entry_point]["env"]}


# --- the code side ----------------------------------------------------------------------


def module_tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def decorators_of(path: Path, function_name: str) -> list[str]:
    """Dotted names of the decorators on `def function_name` in the module at `path`."""
    for node in module_tree(path).body:
        if isinstance(node, ast.FunctionDef) and node.name == function_name:
            return [ast.unparse(d) for d in node.decorator_list]
    raise AssertionError(f"{path.relative_to(REPO)} defines no function {function_name!r}")


def _module_string_assignments(path: Path) -> dict[str, str]:
    """Module-level `NAME = "text"` assignments."""
    found = {}
    for node in module_tree(path).body:
        value = node.value if isinstance(node, ast.Assign) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            found.update({t.id: value.value for t in node.targets if isinstance(t, ast.Name)})
    return found


def string_constants(path: Path) -> set[str]:
    """String literals in the module, and the values of string constants it imports from shared/."""
    tree = module_tree(path)
    found = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("shared."):
            constants = _module_string_assignments(module_path(node.module))
            found.update(constants[a.name] for a in node.names if a.name in constants)
    return found


def module_path(dotted: str) -> Path:
    """`shared.pipeline.results` → shared/pipeline/results.py (a package → its __init__.py)."""
    path = REPO.joinpath(*dotted.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _shared_imports(tree: ast.Module) -> set[str]:
    """Dotted names of the shared/ modules a module imports (`from shared.x import m` counts m too)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "shared":
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("shared."))
    return names


def code_modules(entry_point: str) -> list[Path]:
    """functions/<entry_point>.py and every shared/ module it imports, transitively."""
    start = FUNCTIONS_DIR / f"{entry_point}.py"
    seen: list[Path] = [start]
    pending = [start]
    while pending:
        for name in sorted(_shared_imports(module_tree(pending.pop()))):
            path = module_path(name)
            if path.exists() and path not in seen:
                seen.append(path)
                pending.append(path)
    return seen


@functools.cache
def _settings_properties() -> dict[str, set[str]]:
    """Settings properties (e.g. `cors_origins`) → the fields each one reads."""
    properties: dict[str, set[str]] = {}
    for node in ast.walk(module_tree(SHARED_DIR / "config.py")):
        if isinstance(node, ast.FunctionDef) and "property" in map(ast.unparse, node.decorator_list):
            properties[node.name] = {
                n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and n.attr in SETTINGS_FIELDS
            }
    return properties


def settings_read_by(entry_point: str) -> set[str]:
    """Settings fields the function's code reads (`settings().X`, or through a property)."""
    properties = _settings_properties()
    read: set[str] = set()
    for path in code_modules(entry_point):
        if path.name == "config.py":
            continue  # defines every field; reading them is its job
        for node in ast.walk(module_tree(path)):
            if isinstance(node, ast.Attribute):
                if node.attr in SETTINGS_FIELDS:
                    read.add(node.attr)
                read.update(properties.get(node.attr, ()))
    return read


def topics_published_by(entry_point: str) -> set[str]:
    """Settings fields naming a topic the code publishes to: `*.publish(settings().X_TOPIC, ...)`,
    or a stage's dead letter, `attempts.DeadLetter(settings().X_TOPIC, ...)` (give_up publishes it)."""
    topics: set[str] = set()
    for path in code_modules(entry_point):
        for node in ast.walk(module_tree(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("publish", "DeadLetter")
                and node.args
                and isinstance(node.args[0], ast.Attribute)
                and node.args[0].attr in SETTINGS_FIELDS
            ):
                topics.add(node.args[0].attr)
    return topics
