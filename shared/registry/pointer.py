"""The pointer document: which version each alias names, and the changes the CLI may make to it.

One document per model name, `MODELS_COLLECTION/<name>`:
`{name, champion, previous, canary, percent, shadow, updated_at, updated_by}`.
`champion` answers every upload the canary does not take; `canary` takes `percent` % of
uploads (sticky per upload, see shared.registry.routing); `shadow` also scores every
upload, on the result document only; `previous` is the champion before the last change,
what `rollback` returns to. Every change here is a pure function that either returns the
new pointer or raises `Refusal` with a message a person can act on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

ALIASES = ("champion", "canary", "shadow")


class Refusal(ValueError):
    """A change that is refused; nothing was written."""


@dataclass(frozen=True)
class ModelPointer:
    name: str
    champion: str
    previous: str | None = None
    canary: str | None = None
    percent: int = 0
    shadow: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelPointer:
        """The pointer from its stored form; a document without a champion is unreadable."""
        champion = data.get("champion")
        if not isinstance(champion, str) or not champion:
            raise ValueError(f"the pointer document of {data.get('name')!r} names no champion")
        percent = data.get("percent") or 0
        if not isinstance(percent, int) or not 0 <= percent <= 100:
            raise ValueError(f"the pointer document has percent {percent!r}; expected 0-100")
        return cls(
            name=str(data.get("name") or ""),
            champion=champion,
            previous=data.get("previous") or None,
            canary=data.get("canary") or None,
            percent=percent if data.get("canary") else 0,
            shadow=data.get("shadow") or None,
        )

    def aliases(self) -> dict[str, Any]:
        """What a history entry records before and after a change."""
        return {"champion": self.champion, "canary": self.canary, "percent": self.percent,
                "shadow": self.shadow}  # fmt: skip

    def alias_of(self, version: str) -> list[str]:
        """The aliases naming `version` (champion, previous, canary, shadow)."""
        named = {"champion": self.champion, "previous": self.previous, "canary": self.canary,
                 "shadow": self.shadow}  # fmt: skip
        return [alias for alias, value in named.items() if value == version]


def promote(pointer: ModelPointer, version: str) -> ModelPointer:
    """`version` becomes the champion; the old one is kept as `previous` for a rollback."""
    if version == pointer.champion:
        raise Refusal(f"{version} is already the champion of {pointer.name}.")
    canary_done = pointer.canary == version
    return replace(
        pointer,
        champion=version,
        previous=pointer.champion,
        canary=None if canary_done else pointer.canary,
        percent=0 if canary_done else pointer.percent,
        shadow=None if pointer.shadow == version else pointer.shadow,
    )


def check_percent(percent: int) -> int:
    if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
        raise Refusal(f"The canary's share must be a whole percent from 0 to 100, not {percent!r}.")
    return percent


def set_canary(pointer: ModelPointer, version: str, percent: int) -> ModelPointer:
    """`version` answers `percent` % of uploads (0 keeps it named but sends it nothing)."""
    check_percent(percent)
    if version == pointer.champion:
        raise Refusal(f"{version} is the champion already; a canary must be another version.")
    return replace(pointer, canary=version, percent=percent)


def clear_canary(pointer: ModelPointer) -> ModelPointer:
    if pointer.canary is None:
        raise Refusal(f"{pointer.name} has no canary.")
    return replace(pointer, canary=None, percent=0)


def set_shadow(pointer: ModelPointer, version: str) -> ModelPointer:
    if version == pointer.champion:
        raise Refusal(f"{version} is the champion; a shadow must be another version to compare with.")
    if version == pointer.shadow:
        raise Refusal(f"{version} is already the shadow of {pointer.name}.")
    return replace(pointer, shadow=version)


def clear_shadow(pointer: ModelPointer) -> ModelPointer:
    if pointer.shadow is None:
        raise Refusal(f"{pointer.name} has no shadow.")
    return replace(pointer, shadow=None)


def rollback(pointer: ModelPointer) -> ModelPointer:
    """Back to the previous champion; the canary stops (back to known good), the shadow stays
    unless it is the version that becomes champion."""
    if pointer.previous is None:
        raise Refusal(f"{pointer.name} has no previous champion to roll back to.")
    return replace(
        pointer,
        champion=pointer.previous,
        previous=pointer.champion,
        canary=None,
        percent=0,
        shadow=None if pointer.shadow == pointer.previous else pointer.shadow,
    )
