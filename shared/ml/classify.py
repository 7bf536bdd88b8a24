"""One recording's bytes → a classification, in-process: the whole pipeline without the cloud.

The same stages as preprocess + predict (size check, decode, audio checks, features, model),
used by `coughcloud classify` and the benchmarks. Bad input and model problems become
a `failed` result with the error's code; anything else is a bug and propagates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from shared.errors import InputError, ModelError
from shared.ml.audio import decode_audio
from shared.ml.checks import check_audio, check_upload_size
from shared.ml.features import feature_matrix
from shared.ml.model import CoughModel

T = TypeVar("T")


def _timed(timings: dict[str, float], stage: str, step: Callable[[], T]) -> T:
    started = time.perf_counter()
    try:
        return step()
    finally:
        timings[f"{stage}_ms"] = round((time.perf_counter() - started) * 1000, 3)


def classify_bytes(data: bytes, model: CoughModel) -> dict[str, Any]:
    """The result for one recording: status done|failed, label, confidence, probabilities, timings.

    `model` is a loaded model (`shared.ml.model.load_model`); features are computed with its spec.
    """
    timings: dict[str, float] = {}
    named = {"name": model.name, "version": model.version, "training_data": model.training_data}
    result: dict[str, Any] = {"model": named}
    spec = model.spec
    try:
        check_upload_size(len(data))
        audio = _timed(timings, "decode", lambda: decode_audio(data, spec.sample_rate))
        check_audio(audio)
        features = _timed(timings, "features", lambda: feature_matrix(audio.samples, spec))
        prediction = _timed(timings, "inference", lambda: model.predict(features, spec))
    except (InputError, ModelError) as error:
        result.update(
            status="failed",
            label=None,
            confidence=None,
            probabilities=None,
            error=error.to_dict(),
            timings=timings,
        )
        return result
    result.update(
        status="done",
        label=prediction.label,
        confidence=round(prediction.confidence, 6),
        probabilities={label: round(p, 6) for label, p in prediction.probabilities.items()},
        audio={
            "format": audio.format,
            "duration_s": round(audio.duration_s, 3),
            "source_rate": audio.source_rate,
        },
        timings=timings,
    )
    return result
