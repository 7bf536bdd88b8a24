"""POST /warm, and the same warm-up ahead of POST /uploads: start preprocess and predict early.

The page calls POST /warm right after its visitor signs in, while they pick or record a
cough; an API client that never opens the page gets the same from its POST /uploads. Both
hand the warm-up to shared.cloud.warmup (at most one per function per WARM_UP_INTERVAL_S and
results_api instance, so a flood of calls costs no more) and never wait for the functions;
a failed warm-up is logged, never the caller's error.

The first POST /warm on a new results_api instance also finishes results_api's own start-up
before it answers (with request-based billing there is no CPU after the reply): Firestore's
client, which the page's history and polls need, and the upload signer. Later calls skip it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import flask

from shared import startup
from shared.cloud.warmup import warmer
from shared.config import settings
from shared.http.signing import signed_upload

Handler = Callable[[flask.Request, str], flask.Response]
# The signer's first use signs a URL for this name, which no one is given.
SIGNER_WARM_UP_NAME = "warm-up/signer"


def post_warm(request: flask.Request, uid: str) -> flask.Response:
    """204 once preprocess and predict are asked to start (when their interval allows)."""
    warmer().warm()
    _finish_own_start_up()
    return flask.Response(status=204)


def warming(handler: Handler) -> Handler:
    """`handler` after asking for the warm-up (its upload follows at once)."""

    @functools.wraps(handler)
    def route(request: flask.Request, uid: str) -> flask.Response:
        warmer().warm()
        return handler(request, uid)

    return route


@functools.cache
def _finish_own_start_up() -> None:
    from shared.cloud import firestore  # loaded on first need (see shared/http/api.py)

    startup.finish(
        "results_api",
        {
            "firestore": firestore.client,
            "signer": lambda: signed_upload(settings().UPLOAD_BUCKET, SIGNER_WARM_UP_NAME, "audio/webm", 1),
        },
    )
