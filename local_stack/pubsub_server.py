"""Runs cloudbox's Pub/Sub gRPC service alone: `python -m local_stack.pubsub_server --port P`.

cloudbox 0.2.3 targets Python ≥ 3.14. On 3.11 `cloudbox/core/store.py` fails to import:
a method named `list` shadows the builtin in the annotations that follow it. Under
postponed evaluation of annotations (PEP 563) the module is fine, so this runner loads
that one module compiled with the `annotations` future flag; site-packages is untouched.

Two changes of behaviour, both made here:
- Its StreamingPull polls an empty subscription every 50 ms. A publish now wakes the
  waiting streams at once (the 50 ms poll stays as the fallback, e.g. for nacked messages
  whose deadline runs out), which removes up to 50 ms from every local hop.
- It keeps every published message for 7 days for Seek, copying the whole list on each
  publish: memory and time that grow without bound in a long `make run`. The stack never
  seeks, so the runner keeps no such log (Seek to a time finds nothing).
"""

from __future__ import annotations
import __future__

import argparse
import asyncio
import contextlib
import contextvars
import importlib.abc
import importlib.machinery
import importlib.util
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from types import ModuleType
from typing import Any

_PATCHED_MODULE = "cloudbox.core.store"


class _PostponedAnnotationsLoader(importlib.machinery.SourceFileLoader):
    """Compiles the module as if it began with `from __future__ import annotations`."""

    def get_code(self, fullname):  # type: ignore[override]
        # Compile from source every time: the cached .pyc was built without the flag.
        source = self.get_data(self.path)
        flags = __future__.annotations.compiler_flag
        return compile(source, self.path, "exec", flags=flags, dont_inherit=True)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):  # type: ignore[override]
        if fullname != _PATCHED_MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.origin is None:
            return None
        loader = _PostponedAnnotationsLoader(fullname, spec.origin)
        return importlib.util.spec_from_file_location(fullname, spec.origin, loader=loader)


def import_grpc_server() -> ModuleType:
    """Import cloudbox's Pub/Sub gRPC module with the 3.11 fix in place."""
    sys.meta_path.insert(0, _Finder())
    from cloudbox.services.pubsub import grpc_server

    return grpc_server


# The subscription whose StreamingPull runs in the current task (set by `_streaming_pull`).
_subscription: contextvars.ContextVar[str] = contextvars.ContextVar("subscription", default="")


class _WakeOnPublish:
    """Stands in for the `asyncio` module inside cloudbox's gRPC module.

    Only `sleep` differs: a stream waiting for messages returns as soon as a publish
    enqueues one for its subscription, instead of after its full 50 ms poll.
    """

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    def __getattr__(self, name: str):
        return getattr(asyncio, name)

    def notify(self, subscription: str) -> None:
        event = self._events.pop(subscription, None)
        if event is not None:
            event.set()

    async def sleep(self, delay: float, result=None):
        event = self._events.setdefault(_subscription.get(), asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=delay)
        return result


def _naming_streams(streaming_pull: Callable) -> Callable:
    """Wrap cloudbox's StreamingPull handler so its task knows its subscription."""

    async def handler(request_iterator: AsyncIterator, context: Any) -> None:
        try:
            first = await request_iterator.__anext__()
        except StopAsyncIteration:
            return
        _subscription.set(first.subscription)

        async def replayed() -> AsyncIterator:
            yield first
            async for request in request_iterator:
                yield request

        await streaming_pull(replayed(), context)

    return handler


def install_changes(grpc_server: ModuleType) -> None:
    """Wake-on-publish, and no retained-message log (see the module docstring)."""
    from cloudbox.services.pubsub import store

    store.log_to_topic = lambda topic, message: None

    waker = _WakeOnPublish()
    enqueue = store.enqueue

    def enqueue_and_wake(sub_name: str, message: dict) -> None:
        enqueue(sub_name, message)
        waker.notify(sub_name)

    store.enqueue = enqueue_and_wake
    grpc_server.asyncio = waker
    grpc_server._streaming_pull = _naming_streams(grpc_server._streaming_pull)


async def serve(host: str, port: int) -> None:
    grpc_server = import_grpc_server()
    install_changes(grpc_server)
    server = await grpc_server.create_server(host, port)
    await server.start()
    print(f"pubsub emulator listening on {host}:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(grace=0.5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
