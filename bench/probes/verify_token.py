"""Probe: the parts of results_api's first token verification, timed in one new process.

Run by bench/function_cold_start.py as `python -c <this file's text> TOKEN UID` in a deployed
results_api directory (so `main` is that function's); prints one JSON line, each part's
wall and CPU seconds.
"""

import json
import sys
import time

import functions_framework  # noqa: F401  (with main: what results_api has loaded when its port opens)
import main  # noqa: F401

from shared.accounts import identity


def now() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def since(mark: tuple[float, float]) -> dict[str, float]:
    wall, cpu = now()
    return {"wall_s": wall - mark[0], "cpu_s": cpu - mark[1]}


token, uid = sys.argv[1], sys.argv[2]
out = {}
mark = now()
from firebase_admin import auth  # noqa: E402, F401  (timed: its import is part of the first use)

out["import_firebase_admin_auth"] = since(mark)
mark = now()
identity.auth_module()
out["initialize_app"] = since(mark)
mark = now()
assert identity.verified_uid(token, check_revoked=True) == uid
out["first_verification"] = since(mark)
mark = now()
assert identity.verified_uid(token, check_revoked=True) == uid
out["second_verification"] = since(mark)
print(json.dumps(out))
