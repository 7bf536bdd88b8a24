"""Warm-up requests from results_api to preprocess and predict, at most one per function per interval.

When a visitor opens the page (POST /warm) or an API client asks for an upload URL (POST
/uploads), results_api asks preprocess and predict to start now, so their instances are up
(imports, clients, model) by the time the upload's events reach them. A warm-up is a
binary-mode CloudEvent of our own type (`coughcloud.warmup`, shared/pipeline/events.py)
POSTed to the function's own URL (PREPROCESS_URL, PREDICT_URL). Over https (Cloud Run) it
carries an ID token for that URL, minted by google-auth from the metadata server
(results_api's service account has run.invoker on those two services only); over plain http
(the local stack's 127.0.0.1) it carries none.

The request is written to the socket before the route returns: with request-based billing
Cloud Run gives results_api no CPU after its reply, so a send left to a thread could wait
for the next request. Only the wait for the function's reply (its whole start-up) is left to
a thread. Any failure is logged, never raised to the caller.

The bound: each results_api process keeps, per function, when it last sent one, and sends
the next only WARM_UP_INTERVAL_S later. The slot is taken before sending, under a lock, so a
flood of calls sends one per function, and a failing function is not retried sooner either.
"""

from __future__ import annotations

import functools
import http.client
import math
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from shared import logs, startup
from shared.config import settings
from shared.pipeline.events import WARM_UP

CONNECT_TIMEOUT_S = 2.0  # to the platform's front end, which answers at once even when scaled to zero
REPLY_TIMEOUT_S = 60.0  # the function's start-up and its warm-up, at 0.5 vCPU: a few seconds


@dataclass(frozen=True)
class Target:
    function: str
    url: str


def cloudevent_headers() -> dict[str, str]:
    """A warm-up as a binary-mode CloudEvent (the same envelope Eventarc's events have)."""
    return {
        "ce-specversion": "1.0",
        "ce-id": uuid.uuid4().hex,
        "ce-type": WARM_UP,
        "ce-source": "//coughcloud/results_api",
        "Content-Type": "application/json",
    }


def send(target: Target) -> None:
    """Connect and write one warm-up request now; a thread waits for the reply and logs a failure."""
    parts = urllib.parse.urlsplit(target.url)
    headers = cloudevent_headers()
    if parts.scheme == "https":
        headers["Authorization"] = f"Bearer {_id_token(target.url)}"
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=CONNECT_TIMEOUT_S
        )
    elif parts.scheme == "http":
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=CONNECT_TIMEOUT_S)
    else:
        raise ValueError(f"{target.function}'s URL {target.url!r} is neither https nor http")
    try:
        connection.request("POST", parts.path or "/", body=b"{}", headers=headers)
    except BaseException:
        connection.close()
        raise
    threading.Thread(
        target=_await_reply, args=(connection, target), name=f"warm-up-{target.function}", daemon=True
    ).start()


def _await_reply(connection: http.client.HTTPConnection, target: Target) -> None:
    try:
        if connection.sock is not None:
            connection.sock.settimeout(REPLY_TIMEOUT_S)
        reply = connection.getresponse()
        reply.read()
        if reply.status >= 300:
            logs.log_warm_up_failed(target.function, target.url, f"HTTP {reply.status} {reply.reason}")
    except (OSError, http.client.HTTPException) as error:
        logs.log_warm_up_failed(target.function, target.url, f"{type(error).__name__}: {error}")
    finally:
        connection.close()


_token_lock = threading.Lock()


@functools.cache
def _auth_request() -> Any:
    import google.auth.transport.requests

    return google.auth.transport.requests.Request()


@functools.cache
def _id_token_credentials(audience: str) -> Any:
    from google.oauth2 import id_token

    return id_token.fetch_id_token_credentials(audience, request=_auth_request())


def _id_token(audience: str) -> str:
    """An ID token for `audience` (the function's URL), reused until it nears expiry (an hour)."""
    credentials = _id_token_credentials(audience)
    with _token_lock:
        if not credentials.valid:
            credentials.refresh(_auth_request())
        return credentials.token


class Warmer:
    """One results_api process's warm-ups: each target at most once per `interval_s`."""

    def __init__(
        self,
        targets: tuple[Target, ...],
        interval_s: float,
        sender: Callable[[Target], None] = send,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.targets, self.interval_s = targets, interval_s
        self._sender, self._clock = sender, clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def due(self) -> list[Target]:
        """The targets whose interval has passed, each marked sent now (so only one caller gets it)."""
        now = self._clock()
        with self._lock:
            due = [t for t in self.targets if now - self._last.get(t.function, -math.inf) >= self.interval_s]
            self._last.update({t.function: now for t in due})
        return due

    def warm(self) -> int:
        """Send every due warm-up; how many were sent. Never raises: a failure is logged."""
        sent = 0
        for target in self.due():
            try:
                self._sender(target)
            except Exception as error:
                logs.log_warm_up_failed(target.function, target.url, f"{type(error).__name__}: {error}")
            else:
                sent += 1
        return sent


def warm_on_start() -> None:
    """A new results_api instance's warm-up, sent on a start-up thread (shared/startup.py) before
    the instance imports the rest of itself: an API client's first upload, whose POST /uploads
    started this instance, then meets preprocess and predict already starting
    (WARM_UP_ON_START). This module imports only the standard library and shared's light
    modules, so the warm-up leaves within a tenth of the instance's own start-up."""
    if settings().WARM_UP_ON_START:
        startup.prefetch("warm-up", warmer().warm)  # the warmer made now, with this process's settings


@functools.cache
def warmer() -> Warmer:
    """This process's warmer: preprocess first (an upload needs it first), then predict."""
    config = settings()
    urls = {"preprocess": config.PREPROCESS_URL, "predict": config.PREDICT_URL}
    targets = tuple(Target(function, url) for function, url in urls.items() if url)
    return Warmer(targets, config.WARM_UP_INTERVAL_S)
