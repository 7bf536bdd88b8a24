"""Which version answers an upload: sticky per upload, so every delivery of it agrees.

An upload's bucket is a number 0-99 from the sha256 of its result key; buckets below the
canary's percent go to the canary, the rest to the champion. The same key always lands in
the same bucket, so a redelivered upload (or a re-upload of the same name) is answered by
the same version for as long as the pointer stays the same, and raising the percent only
moves more uploads onto the canary, never back and forth.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Any

from shared.registry.pointer import ModelPointer


@dataclass(frozen=True)
class Choice:
    """The version chosen for one upload, the alias it was chosen by, and the shadow to run beside it."""

    name: str
    version: str
    alias: str
    shadow: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Any) -> Choice | None:
        """The choice a features message names, or None for a message without one (or a bad one)."""
        if not isinstance(data, dict):
            return None
        name, version, alias, shadow = (data.get(k) for k in ("name", "version", "alias", "shadow"))
        if not all(isinstance(v, str) and v for v in (name, version, alias)):
            return None
        return cls(name, version, alias, shadow if isinstance(shadow, str) and shadow else None)


def bucket_of(key: str) -> int:
    """0-99, uniform over keys, stable for a key."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % 100


def route(pointer: ModelPointer, key: str) -> Choice:
    shadow = pointer.shadow
    if pointer.canary and bucket_of(key) < pointer.percent:
        return Choice(pointer.name, pointer.canary, "canary", shadow if shadow != pointer.canary else None)
    return Choice(pointer.name, pointer.champion, "champion", shadow if shadow != pointer.champion else None)
