"""Cold start of each deployed function: a fresh process loading it as functions-framework does.

    .venv/bin/python -m bench.function_cold_start [--runs N]

What a new instance pays before it can answer its first event: the interpreter, then
`functions_framework.create_app(target, source)` (Flask, the function module and
everything it imports: shared/, numpy, the Google clients). It runs in a virtualenv
holding only requirements.txt (made once under .local/, with uv), as a deployed function
does: the development venv has extra packages (click, rich) that some imports pick up.
Each run is a new process; the median of N runs after one untimed run (OS file cache
warm) is reported, with the child's peak RSS. The same is measured for the heaviest
single imports, to show where the time goes. Prints the figures and writes
bench/results/function_cold_start.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.clip_cost import save_results
from shared.config import REPO_ROOT

RESULTS = Path(__file__).resolve().parent / "results" / "function_cold_start.json"
RUNTIME_VENV = REPO_ROOT / ".local" / "runtime-venv"
FUNCTIONS = ("preprocess", "predict", "results_api", "dead_letter")
# The heaviest imports of a function instance, timed alone for the breakdown.
IMPORTS = {
    "python alone": "pass",
    "functions_framework": "import functions_framework",
    "google.cloud.pubsub_v1": "from google.cloud import pubsub_v1",
    "firebase_admin.firestore": "from firebase_admin import firestore",
    "google.cloud.storage": "from google.cloud import storage",
    "numpy + soundfile + soxr": "import numpy, soundfile, soxr",
    "ai_edge_litert": "from ai_edge_litert.interpreter import Interpreter",
}

_CHILD = """
import json, resource, sys
{body}
print(json.dumps({{"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}), flush=True)
"""


def _load_function(name: str) -> str:
    source = REPO_ROOT / "functions" / f"{name}.py"
    return f"import functions_framework\nfunctions_framework.create_app({name!r}, {str(source)!r})"


def runtime_python() -> Path:
    """The interpreter of a venv with only requirements.txt (what Cloud Functions installs)."""
    python = RUNTIME_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(RUNTIME_VENV)], check=True)
    uv = Path(sys.executable).parent / "uv"
    requirements = str(REPO_ROOT / "requirements.txt")
    subprocess.run([str(uv), "pip", "install", "-q", "--python", str(python), "-r", requirements], check=True)
    return python


def _time_child(python: Path, body: str) -> tuple[float, float]:
    """Seconds from spawn to the child's report, and the child's peak RSS in MB."""
    started = time.perf_counter()
    out = subprocess.run(
        [str(python), "-c", _CHILD.format(body=body)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    elapsed = time.perf_counter() - started
    return elapsed, json.loads(out.strip().splitlines()[-1])["rss_mb"]


def measure(python: Path, body: str, runs: int) -> dict[str, float]:
    _time_child(python, body)  # untimed: warms the OS file cache
    samples = [_time_child(python, body) for _ in range(runs)]
    seconds = [s for s, _ in samples]
    return {
        "median_s": round(statistics.median(seconds), 3),
        "min_s": round(min(seconds), 3),
        "max_s": round(max(seconds), 3),
        "rss_mb": round(max(r for _, r in samples), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    python = runtime_python()
    functions = {}
    for name in FUNCTIONS:
        functions[name] = measure(python, _load_function(name), args.runs)
        f = functions[name]
        print(
            f"{name:12} loaded in {f['median_s']:.2f} s (min {f['min_s']:.2f}), peak RSS {f['rss_mb']:.0f} MB"
        )
    imports = {}
    for label, body in IMPORTS.items():
        imports[label] = measure(python, body, args.runs)
        print(f"  {label:26} {imports[label]['median_s']:.2f} s, {imports[label]['rss_mb']:.0f} MB")
    report = {"venv": "requirements.txt only", "runs": args.runs, "functions": functions, "imports": imports}
    save_results(RESULTS, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
