"""MkDocs hooks: the reference pages are generated from the code at build time, so they cannot drift.

- `reference/configuration.md` from `shared/config.py` (every `Settings` field, its default and
  the comment above it);
- `reference/http-api.md` from the live OpenAPI document (`shared/http/openapi.py`);
- `reference/cli.md` from the argparse parsers (`coughcloud/cli.py`);
- `reference/errors.md` from `shared/errors.py` and the API's codes, with the sentence the page
  shows for each (`frontend_stub/src/lib/errorMessages.js`) and what each means
  (`docs/reference/error-codes.yml`; the build fails if that file and the code disagree);
- `reference/logs-and-metrics.md` from `shared/logs.py` and `infra/terraform/monitoring.tf`;
- `changelog.md` and `development.md` from the repository's CHANGELOG.md and DEVELOPMENT.md.

`{{ terraform sizing }}` is replaced by the functions' sizing table (`local.sizing_defaults` in
`infra/terraform/functions.tf`), `{{ output SCRIPT }}` by what the repository's Python script
SCRIPT prints (a failing script fails the build). Pages may also quote a benchmark's figure:
`{{ bench FILE KEY.PATH }}` (or `{{ bench FILE KEY.PATH | FORMAT }}`, a Python format spec, or
`met` for a goal's boolean) is replaced by that value of `bench/results/FILE.json`, and a
missing file or key fails the build. Nothing generated is
committed; `mkdocs build --strict` runs in `make test`.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import hcl2
import yaml
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

REPO = Path(__file__).resolve().parent.parent
BENCH_RESULTS = REPO / "bench" / "results"
SIZING = "{{ terraform sizing }}"
OUTPUT = re.compile(r"\{\{\s*output\s+([\w./-]+\.py)\s*\}\}")
BENCH = re.compile(r"\{\{\s*bench\s+(\w+)\s+([^|}]+?)\s*(?:\|\s*([^}]+?)\s*)?\}\}")
ROOT_PAGES = {"changelog.md": "CHANGELOG.md", "development.md": "DEVELOPMENT.md"}


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


# --- configuration --------------------------------------------------------------------------


def configuration_page() -> str:
    from shared import config

    source = Path(config.__file__).read_text(encoding="utf-8").splitlines()
    comments: dict[str, str] = {}
    block: list[str] = []
    for line in source:
        stripped = line.strip()
        if stripped.startswith("#"):
            block.append(stripped.lstrip("# "))
            continue
        field = re.match(r"^([A-Z][A-Z0-9_]*):", stripped)
        if field:
            comments[field.group(1)] = " ".join(block)
        block = []
    rows = []
    for field in dataclasses.fields(config.Settings):
        default = field.default
        if field.name == "MODEL_URI":
            default = os.path.relpath(str(default), REPO)  # the bundled model, not this machine's path
        rows.append(
            [
                f"`{field.name}`",
                field.type,
                f"`{default}`" if default != "" else "(empty)",
                comments.get(field.name, ""),
            ]
        )
    return (
        "# Configuration\n\n"
        "*Generated from `shared/config.py` at build time.*\n\n"
        f"{config.__doc__.strip()}\n\n"
        "Every setting is an environment variable of the same name; an empty or unset variable takes "
        "the default. A comment that introduces a group of settings is shown with the first of them.\n\n"
        + _table(["variable", "type", "default", "notes"], rows)
    )


# --- HTTP API -------------------------------------------------------------------------------


def _schema_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[`{name}`](#{name.lower()})"
    if "oneOf" in schema:
        return " or ".join(_schema_name(s) for s in schema["oneOf"])
    kind = schema.get("type", "object")
    if kind == "array":
        return f"array of {_schema_name(schema.get('items', {}))}"
    return f"`{kind}`"


def http_api_page() -> str:
    from shared.http.openapi import openapi_document

    document = openapi_document()
    info = document["info"]
    out = [
        f"# HTTP API: {info['title']}\n",
        "*Generated at build time from the OpenAPI document `results_api` serves at `/openapi.json` "
        "(`shared/http/openapi.py`).*\n",
        f"{info['description']}\n",
        f"Version {info['version']}, OpenAPI {document['openapi']}.\n",
    ]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            out.append(f"## `{method.upper()} {path}`\n")
            out.append(f"{operation.get('summary', '')}\n")
            if operation.get("description"):
                out.append(f"{operation['description']}\n")
            signed_in = bool(operation.get("security", document.get("security")))
            out.append(
                "Sign-in: **Firebase ID token** (`Authorization: Bearer`).\n"
                if signed_in
                else "Sign-in: none.\n"
            )
            params = operation.get("parameters", [])
            if params:
                rows = [
                    [
                        f"`{p['name']}`",
                        p["in"],
                        "yes" if p.get("required") else "no",
                        _schema_name(p.get("schema", {})),
                        p.get("description", ""),
                    ]
                    for p in params
                ]
                out.append(_table(["parameter", "in", "required", "type", "description"], rows))
            body = operation.get("requestBody")
            if body:
                schema = body["content"]["application/json"]["schema"]
                out.append(f"Request body (JSON): {_schema_name(schema)}.\n")
            rows = []
            for status, reply in operation["responses"].items():
                content = reply.get("content", {}).get("application/json", {}).get("schema")
                rows.append([status, reply["description"], _schema_name(content) if content else "(no body)"])
            out.append(_table(["status", "when", "body"], rows))
    out.append("## Schemas\n")
    for name, schema in document["components"]["schemas"].items():
        out.append(f"### {name}\n")
        if schema.get("description"):
            out.append(f"{schema['description']}\n")
        required = set(schema.get("required", []))
        rows = []
        for prop, spec in schema.get("properties", {}).items():
            kind = _schema_name(spec)
            if "enum" in spec:
                kind += ": " + ", ".join(f"`{v}`" for v in spec["enum"] if v is not None)
            rows.append([f"`{prop}`", kind, "yes" if prop in required else "no", spec.get("description", "")])
        if rows:
            out.append(_table(["field", "type", "required", "description"], rows))
    out.append("## The document\n")
    out.append('??? note "openapi.json"\n    ```json\n')
    out.append(
        "\n".join("    " + line for line in json.dumps(document, indent=2, ensure_ascii=False).splitlines())
    )
    out.append("\n    ```\n")
    return "\n".join(out)


# --- CLI ------------------------------------------------------------------------------------


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli_page() -> str:
    from coughcloud.cli import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps help to the terminal: the same width on every machine
    parser = build_parser()
    out = [
        "# Command line: `coughcloud`\n",
        "*Generated at build time from the parsers of `coughcloud/cli.py` and `coughcloud/commands/`.*\n",
        "The command lives in the venv: `.venv/bin/coughcloud …`, or `. .venv/bin/activate` first. "
        "Commands that talk to a deployment (`upload`, `result`, `watch`, `login`, `stats`, `models`, "
        "`feedback`, `rescore`) read `.local/stack.env` when it exists, `--env FILE` for another, else "
        "the environment (Google Cloud: `GOOGLE_CLOUD_PROJECT` and application default credentials); "
        "with neither a stack nor credentials they say so in one line and exit 1.\n",
        "```text\n" + parser.format_help() + "```\n",
    ]
    seen: set[int] = set()
    for name, sub in _subcommands(parser).items():
        if id(sub) in seen:
            continue
        seen.add(id(sub))
        out.append(f"## `coughcloud {name}`\n")
        out.append("```text\n" + sub.format_help() + "```\n")
        for action_name, action in _subcommands(sub).items():
            out.append(f"### `coughcloud {name} {action_name}`\n")
            out.append("```text\n" + action.format_help() + "```\n")
    return "\n".join(out)


# --- error codes ----------------------------------------------------------------------------


def _page_sentences() -> dict[str, str]:
    source = (REPO / "frontend_stub" / "src" / "lib" / "errorMessages.js").read_text(encoding="utf-8")
    return dict(re.findall(r'^\s*(\w+):\s*"((?:[^"\\]|\\.)*)"', source, re.MULTILINE))


def errors_page() -> str:
    from coughcloud.commands.classify import UNREADABLE_FILE
    from shared.errors import ERROR_CODES
    from shared.http.openapi import API_ERROR_CODES

    meanings = yaml.safe_load((REPO / "docs/reference/error-codes.yml").read_text(encoding="utf-8"))
    pipeline = list(ERROR_CODES)
    api_only = [c for c in API_ERROR_CODES if c not in ERROR_CODES]
    known = set(pipeline) | set(api_only) | {UNREADABLE_FILE}
    if set(meanings) != known:
        raise PluginError(
            "docs/reference/error-codes.yml and the code disagree: "
            f"missing {sorted(known - set(meanings))}, unknown {sorted(set(meanings) - known)}"
        )
    sentences = _page_sentences()
    return (
        "# Error codes\n\n"
        "*Generated at build time from `shared/errors.py` (the pipeline's codes), "
        "`shared/http/openapi.py` (the API's) and `coughcloud/commands/classify.py`; what each means "
        "is kept in `docs/reference/error-codes.yml`, and the build fails if a code is missing there.*\n\n"
        'Every error is `{"code", "message"}`: the code is stable, the message says what was '
        "measured and what the limit is. Input limits are settings ([configuration](configuration.md)).\n\n"
        "## The pipeline's codes\n\n"
        "A failed result carries one of these in `error.code` (`status: failed`); `POST /uploads` "
        "refuses some up front with the same code.\n\n"
        + _table(
            ["code", "when", "what the page tells the visitor"],
            [[f"`{c}`", meanings[c], sentences.get(c, "")] for c in pipeline],
        )
        + "\n## The HTTP API's other codes\n\n"
        + _table(["code", "when"], [[f"`{c}`", meanings[c]] for c in api_only])
        + "\n## The CLI's own code\n\n"
        + _table(["code", "when"], [[f"`{UNREADABLE_FILE}`", meanings[UNREADABLE_FILE]]])
    )


# --- log events and metrics -----------------------------------------------------------------


def _log_functions() -> list[list[str]]:
    tree = ast.parse((REPO / "shared" / "logs.py").read_text(encoding="utf-8"))
    rows = []
    for node in tree.body:
        if not (isinstance(node, ast.FunctionDef) and node.name.startswith("log_")):
            continue
        severity = event = message = ""
        assigned = {
            target.id: statement.value
            for statement in ast.walk(node)
            if isinstance(statement, ast.Assign)
            for target in statement.targets
            if isinstance(target, ast.Name)
        }
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Name)
                and call.func.id in ("_emit", "_pipeline")
            ):
                first = call.args[0] if call.args else None
                if isinstance(first, ast.Constant):
                    severity = first.value
                text = call.args[1] if len(call.args) > 1 else None
                text = assigned.get(text.id, text) if isinstance(text, ast.Name) else text
                if text is not None:
                    message = ast.unparse(text).removeprefix("f")[1:-1]  # the text, without its quotes
                for keyword in call.keywords:
                    if keyword.arg == "event" and isinstance(keyword.value, ast.Constant):
                        event = keyword.value.value
        doc = (ast.get_docstring(node) or "").split("\n\n")[0]
        rows.append(
            [f"`{node.name}`", severity or "(varies)", f"`{event}`" if event else "", doc, f"`{message}`"]
        )
    return rows


def _code(filter_text: str) -> str:
    """A Terraform string (its quotes still escaped) as inline code."""
    return "`" + filter_text.replace('\\"', '"') + "`"


def _unwrap(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _terraform(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return hcl2.load(handle)


def _metrics() -> tuple[list[list[str]], list[list[str]]]:
    parsed = _terraform(REPO / "infra" / "terraform" / "monitoring.tf")
    resources: dict[str, dict[str, Any]] = {}
    for block in parsed.get("resource", []):
        for kind, named in block.items():
            resources.setdefault(kind, {}).update(named)
    local: dict[str, Any] = {}
    for block in parsed.get("locals", []):
        local.update({k: _unwrap(v) for k, v in block.items()})
    metrics = []
    for body in resources.get("google_logging_metric", {}).values():
        descriptor = _unwrap(body["metric_descriptor"])
        if _unwrap(body.get("for_each")) == "${local.latency_metrics}":
            for key, spec in local["latency_metrics"].items():
                labels = ", ".join(f"`{k}`" for k in spec["labels"])
                metrics.append(
                    [
                        f"`coughcloud/{key}`",
                        spec["display_name"],
                        "distribution, ms",
                        labels,
                        _code(spec["filter"]),
                    ]
                )
            continue
        labels = ", ".join(f"`{_unwrap(label['key'])}`" for label in descriptor.get("labels", []))
        kind = "distribution" if _unwrap(descriptor["value_type"]) == "DISTRIBUTION" else "count"
        metrics.append(
            [
                f"`{_unwrap(body['name'])}`",
                _unwrap(descriptor["display_name"]),
                kind,
                labels,
                _code(_unwrap(body["filter"])),
            ]
        )
    alerts = [
        [f"`{name}`", _unwrap(body["display_name"]).replace("${", "`${").replace("}", "}`")]
        for name, body in resources.get("google_monitoring_alert_policy", {}).items()
    ]
    return metrics, alerts


def logs_page() -> str:
    from shared import logs

    metrics, alerts = _metrics()
    return (
        "# Log events and metrics\n\n"
        "*Generated at build time from `shared/logs.py` and `infra/terraform/monitoring.tf`.*\n\n"
        f"{logs.__doc__.strip()}\n\n"
        "## Log lines\n\n"
        "One function per line the code writes. `event` is the stable name a log-based metric "
        "filters on (`jsonPayload.event`); lines without one are for people reading logs.\n\n"
        + _table(["function", "severity", "event", "when", "message"], _log_functions())
        + "\n## Log-based metrics\n\n"
        "Under `logging.googleapis.com/user/` on Google Cloud. Log-based metrics count only lines "
        "written after they exist. How to use them: [Operate](../guides/operate.md).\n\n"
        + _table(["metric", "what", "kind", "labels", "filter"], metrics)
        + "\n## Alert policies\n\n"
        + _table(["policy", "display name"], alerts)
    )


def sizing_table() -> str:
    parsed = _terraform(REPO / "infra" / "terraform" / "functions.tf")
    defaults = next(_unwrap(b["sizing_defaults"]) for b in parsed.get("locals", []) if "sizing_defaults" in b)
    rows = [
        [name, f"{s['memory']} / {s['cpu']}", s["concurrency"], f"{s['timeout_s']} s", instances]
        for name, s in defaults.items()
        for instances in [f"{s['min_instances']} / {s['max_instances']}"]
    ]
    return _table(["function", "memory / vCPU", "concurrency", "timeout", "min / max instances"], rows)


def script_output(script: str) -> str:
    done = subprocess.run(
        [sys.executable, script], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise PluginError(f"{{{{ output {script} }}}}: exit status {done.returncode}: {done.stderr[-500:]}")
    return "```text\n" + done.stdout.rstrip() + "\n```"


# --- benchmark figures ----------------------------------------------------------------------


def _bench_value(name: str, path: str, spec: str | None) -> str:
    file = BENCH_RESULTS / f"{name}.json"
    if not file.is_file():
        raise PluginError(f"{{{{ bench {name} {path} }}}}: no {file.relative_to(REPO)}")
    value: Any = json.loads(file.read_text(encoding="utf-8"))
    parts = path.split(".")
    while parts:
        # Keys may hold dots themselves ("1.1.0"): take the longest run of parts that is a key.
        for size in range(len(parts), 0, -1):
            key = ".".join(parts[:size])
            if isinstance(value, dict) and key in value:
                value, parts = value[key], parts[size:]
                break
            if isinstance(value, list) and size == 1 and key.isdigit() and int(key) < len(value):
                value, parts = value[int(key)], parts[1:]
                break
        else:
            raise PluginError(f"{{{{ bench {name} {path} }}}}: no '{parts[0]}' in {file.relative_to(REPO)}")
    if spec == "met":  # a goal's boolean
        return "**met**" if value else "**not met**"
    if spec:
        return format(value, spec)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


# --- hooks ----------------------------------------------------------------------------------


# Pages made at build time, by path under docs/ (the citation test counts them as existing).
FROM_CODE = {
    "reference/configuration.md": configuration_page,
    "reference/http-api.md": http_api_page,
    "reference/cli.md": cli_page,
    "reference/errors.md": errors_page,
    "reference/logs-and-metrics.md": logs_page,
}
GENERATED_PAGES = (*FROM_CODE, *ROOT_PAGES)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    for uri, make in FROM_CODE.items():
        files.append(File.generated(config, uri, content=make()))
    for uri, root_file in ROOT_PAGES.items():
        text = (REPO / root_file).read_text(encoding="utf-8")
        # Links written for the repository (docs/…) point at the same pages in the site.
        files.append(File.generated(config, uri, content=text.replace("](docs/", "](")))
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if SIZING in markdown:
        markdown = markdown.replace(SIZING, sizing_table())
    markdown = OUTPUT.sub(lambda m: script_output(m.group(1)), markdown)
    return BENCH.sub(lambda m: _bench_value(m.group(1), m.group(2), m.group(3)), markdown)
