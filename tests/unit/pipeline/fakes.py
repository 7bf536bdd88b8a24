"""Fakes of what a pipeline stage talks to: Pub/Sub, the result store, the stage's own work."""

from __future__ import annotations

from typing import Any

from shared.pipeline.messages import Upload
from shared.pipeline.results import Claim

MAX_ATTEMPTS = 3  # MAX_DELIVERY_ATTEMPTS while the fakes are in place


class Fakes:
    """Every call recorded in order; `publish_error` and `work_error` make those calls raise."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.publish_error: Exception | None = None
        self.claim = Claim("work", attempt=1)
        self.work_error: Exception | None = None

    def publish(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        if self.publish_error is not None:
            raise self.publish_error
        self.calls.append(("publish", (topic, data, attributes)))
        return "message-1"

    def finish_failed(
        self, stage: str, key: str, generation: int, code: str, message: str, **kw: Any
    ) -> None:
        self.calls.append(("failed", (stage, key, generation, code, message, kw)))

    def claim_upload(self, upload: Upload, trace_id: str) -> Claim:
        self.calls.append(("claim", upload.key))
        return self.claim

    def erased(self, bucket: str, name: str) -> bool:
        """No tombstone: the name was never erased (tests/reliability covers a live one)."""
        return False

    def work(self, *args: Any) -> None:
        """preprocess's `_extract_and_publish`, predict's `_classify`: raises `work_error`, if set."""
        self.calls.append(("work", None))
        if self.work_error is not None:
            raise self.work_error

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.calls]
