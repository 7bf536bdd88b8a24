"""The functions' copy of a pointer document: re-read at most every MODEL_POINTER_TTL_S seconds.

A warm call costs a clock read and a comparison. When a read fails, or the document is
gone, the last good pointer stays in use (and that is logged) until a read succeeds again;
before any good read a missing pointer means "no registry": MODEL_URI serves, as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shared import logs
from shared.registry.pointer import ModelPointer

MAX_TTL_S = 30.0


class PointerCache:
    def __init__(
        self,
        name: str,
        read: Callable[[str], ModelPointer | None],
        ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._read = read
        self.ttl_s = min(max(ttl_s, 0.0), MAX_TTL_S)
        self._clock = clock
        self._lock = threading.Lock()
        self._value: ModelPointer | None = None
        self._read_at: float | None = None

    def get(self) -> ModelPointer | None:
        with self._lock:
            now = self._clock()
            if self._read_at is not None and now - self._read_at < self.ttl_s:
                return self._value
            self._read_at = now  # a failed read is retried after the TTL too, not on every call
            try:
                value = self._read(self.name)
            except Exception as error:
                logs.log_pointer_unreadable(self.name, self._kept(), error)
                return self._value
            if value is None and self._value is not None:
                logs.log_pointer_missing(self.name, self._kept())
                return self._value
            if value != self._value:
                logs.log_pointer_changed(self.name, value.aliases() if value else None)
            self._value = value
            return value

    def _kept(self) -> str | None:
        return self._value.champion if self._value else None
