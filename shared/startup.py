"""Start-up work done off a new instance's first answer, on a background thread.

functions-framework imports the function in gunicorn's master process, then forks the
worker that serves requests. `prefetch` runs a step on a thread of the master while its
start-up goes on (the rest of the imports, gunicorn, the fork), so network waits such as a
model download overlap them; the thread is joined before any fork, so the worker never
inherits a half-done step (or a lock held by a thread it does not have). A prefetch step
must therefore make only what survives a fork: bytes, imported modules, not a gRPC
channel or a LiteRT interpreter (their threads would not be in the worker).

Nothing is warmed after a reply: with request-based billing Cloud Run allots an instance
no CPU between requests, so such work would only run during the next request anyway. A
warm-up event (POST /warm, see shared/cloud/warmup.py) is therefore answered only once
`finish` has done the rest of the start-up, inside that request.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping

from shared import logs


def prefetch(name: str, step: Callable[[], object]) -> threading.Thread:
    """Run `step` on a background thread now; any fork waits for it to finish first."""
    thread = threading.Thread(target=_run, args=(name, step), name=f"prefetch-{name}", daemon=True)
    thread.start()
    os.register_at_fork(before=thread.join)
    return thread


def finish(stage: str, steps: Mapping[str, Callable[[], object]]) -> None:
    """Do now, in order, what a new instance's first event would otherwise do (clients, model).

    A failing step is logged and skipped: the first event that needs it does it again."""
    started = time.perf_counter()
    for name, step in steps.items():
        _run(name, step)
    logs.log_warmed_up(stage, (time.perf_counter() - started) * 1000)


def _run(name: str, step: Callable[[], object]) -> None:
    try:
        step()
    except Exception as error:  # the request that needs it does it again and reports the error
        logs.log_startup_step_failed(name, error)
