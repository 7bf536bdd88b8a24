"""Re-scoring stored recordings with another version: `scores.<version>` on their results.

Bounded (at most `limit` scores a run), paged (`page_size` documents a query, in name order),
rate-limited (at most `rate` scores a second) and resumable (a checkpoint file records the
last name done, so a stopped run goes on where it stopped, and a result that already has
this version's score is skipped). It reads recordings from the uploads bucket and writes
only the `scores` field of result documents: nothing is written to Storage and nothing is
published, so the pipeline cannot be re-triggered (Firebase's resize-images backfill looped
to 34.9 M executions by re-triggering itself; docs/design/lessons.md).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.cloud.firestore_v1.base_query import FieldFilter
from google.cloud.firestore_v1.field_path import FieldPath

from shared.cloud import firestore, storage
from shared.config import settings
from shared.errors import InputError
from shared.ml.audio import decode_audio
from shared.ml.features import feature_matrix
from shared.ml.model import CoughModel
from shared.pipeline import results

_NAME_END = "\uf8ff"  # sorts after any name with the prefix


@dataclass
class Checkpoint:
    """Where a re-scoring run stands; saved after every page."""

    version: str
    prefix: str
    after: str = ""  # the last name handled
    scored: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    finished: bool = False

    @classmethod
    def load(cls, path: Path, version: str, prefix: str) -> Checkpoint:
        if not path.is_file():
            return cls(version, prefix)
        data = json.loads(path.read_text())
        if (data.get("version"), data.get("prefix")) != (version, prefix):
            raise ValueError(
                f"{path} is the checkpoint of another run: {data.get('version')} {data.get('prefix')!r}"
            )
        return cls(**data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        os.replace(tmp, path)


def _page(prefix: str, after: str, size: int) -> list[Any]:
    """Up to `size` result snapshots with names after `after` under `prefix`, in name order."""
    query = firestore.client().collection(settings().RESULTS_COLLECTION)
    if after >= prefix:
        query = query.where(filter=FieldFilter("name", ">", after))
    else:
        query = query.where(filter=FieldFilter("name", ">=", prefix))
    if prefix:
        query = query.where(filter=FieldFilter("name", "<", prefix + _NAME_END))
    return list(query.order_by("name").limit(size).stream())


def scored_since(cutoff: Any) -> list[dict[str, Any]]:
    """Result documents re-scored at or after `cutoff` (their own updated_at may be older)."""
    collection = firestore.client().collection(settings().RESULTS_COLLECTION)
    return [s.to_dict() for s in collection.where(filter=FieldFilter("scored_at", ">=", cutoff)).stream()]


class Pacer:
    """At most `rate` calls a second (`rate` 0: unpaced)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:  # fmt: skip
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.next_at: float | None = None

    def wait(self) -> None:
        now = self.clock()
        if self.next_at is not None and now < self.next_at:
            self.sleep(self.next_at - now)
            now = self.next_at
        self.next_at = now + self.interval


def _score(model: CoughModel, document: dict[str, Any]) -> dict[str, Any]:
    data = storage.download_capped(
        document["bucket"], document["name"], int(document["generation"]), settings().MAX_UPLOAD_BYTES
    )
    audio = decode_audio(data, model.spec.sample_rate)
    started = time.perf_counter()
    prediction = model.predict(feature_matrix(audio.samples, model.spec), model.spec)
    return {
        "model": model.info,
        "label": prediction.label,
        "confidence": prediction.confidence,
        "probabilities": prediction.probabilities,
        "inference_ms": round((time.perf_counter() - started) * 1000, 3),
        "at": results.now(),
    }


def _skip_reason(document: dict[str, Any], version: str) -> str | None:
    if document.get("status") != "done":
        return f"not done ({document.get('status')})"
    if version in (document.get("scores") or {}):
        return "already scored by this version"
    return None


def rescore(
    model: CoughModel,
    checkpoint: Checkpoint,
    save: Callable[[Checkpoint], None],
    *,
    limit: int,
    rate: float,
    page_size: int = 50,
) -> Iterator[Checkpoint]:
    """Score up to `limit` results in name order after the checkpoint; yields it after each page."""
    pacer = Pacer(rate)
    skipped = Counter(checkpoint.skipped)
    scored_this_run = 0
    field_path = FieldPath("scores", model.version).to_api_repr()
    while scored_this_run < limit:
        page = _page(checkpoint.prefix, checkpoint.after, page_size)
        if not page:
            checkpoint.finished = True
            break
        for snapshot in page:
            document = snapshot.to_dict()
            reason = _skip_reason(document, model.version)
            if reason is None:
                pacer.wait()
                try:
                    score = _score(model, document)
                    option = firestore.unchanged_since(snapshot.update_time)
                    # scored_at, top level: `models compare` finds re-scored results by it.
                    snapshot.reference.update({field_path: score, "scored_at": score["at"]}, option=option)
                    scored_this_run += 1
                    checkpoint.scored += 1
                except api_exceptions.NotFound:
                    reason = "recording gone (erased or replaced)"
                except api_exceptions.FailedPrecondition:
                    reason = "result changed meanwhile"
                except InputError as error:
                    reason = f"recording unreadable ({error.code})"
            if reason is not None:
                skipped[reason] += 1
            checkpoint.after = document["name"]
            if scored_this_run >= limit:
                break
        checkpoint.skipped = dict(skipped)
        save(checkpoint)
        yield checkpoint
    checkpoint.skipped = dict(skipped)
    save(checkpoint)
