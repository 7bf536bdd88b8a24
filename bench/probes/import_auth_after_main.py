"""Probe: what `from firebase_admin import auth` adds to a results_api process (`-X importtime`).

Run by bench/function_cold_start.py as `python -X importtime -c <this file's text>` in a
deployed results_api directory; the benchmark reads the imports that follow `main`.
"""

import functions_framework  # noqa: F401
import main  # noqa: F401
from firebase_admin import auth  # noqa: F401
