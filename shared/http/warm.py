"""POST /warm, and the same warm-up ahead of POST /uploads: start preprocess and predict early.

The page calls POST /warm right after its visitor signs in, while they pick or record a
cough; an API client that never opens the page gets the same from its POST /uploads. Both
hand the warm-up to shared.cloud.warmup (at most one per function per WARM_UP_INTERVAL_S and
results_api instance, so a flood of calls costs no more) and answer at once, without
waiting for the functions; a failed warm-up is logged, never the caller's error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import flask

from shared.cloud.warmup import warmer

Handler = Callable[[flask.Request, str], flask.Response]


def post_warm(request: flask.Request, uid: str) -> flask.Response:
    """204 at once; preprocess and predict are asked to start, when their interval allows."""
    warmer().warm()
    return flask.Response(status=204)


def warming(handler: Handler) -> Handler:
    """`handler` after asking for the warm-up (its upload follows at once)."""

    @functools.wraps(handler)
    def route(request: flask.Request, uid: str) -> flask.Response:
        warmer().warm()
        return handler(request, uid)

    return route
