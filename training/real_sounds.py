"""Real `not_cough` clips from the Debian packages of training/sources.py, at the model's rate.

Recordings are decoded by the serving decoder (`shared.ml.audio.decode_audio`), so
training hears what predict would; instrument banks become single notes
(training/instruments.py). A recording longer than MAX_SECONDS is cut to a seeded
stretch of that length (a long prompt would otherwise outweigh many short sounds).
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import soxr

from shared.errors import InputError
from shared.ml.audio import decode_audio
from training.instruments import Sample, pat_samples, render_note, sf2_samples
from training.sources import Source, package_files
from training.synthetic import Clip

AUDIO_SUFFIXES = (".wav", ".ogg", ".oga", ".flac")
MAX_SECONDS = 3.0
NOTE_SECONDS = (0.4, 2.0)
MIN_SECONDS = 0.1


def source_rng(source: Source, seed: int) -> np.random.Generator:
    """A generator of its own per source, so adding a source changes no other source's clips."""
    return np.random.default_rng([seed, zlib.crc32(source.package.encode())])


def load_source(source: Source, rate: int, seed: int) -> list[Clip]:
    """Up to `source.limit` clips of the package (a seeded choice), mono float32 at `rate`."""
    rng = source_rng(source, seed)
    if source.reader == "audio":
        items: list[str | Sample] = [f for f in package_files(source.package) if f.endswith(AUDIO_SUFFIXES)]
    elif source.reader in ("sf2", "pat"):
        items = list(_bank_samples(source))
    else:
        raise ValueError(f"{source.package}: unknown reader {source.reader!r}")
    if source.limit is not None and len(items) > source.limit:
        chosen = sorted(rng.choice(len(items), source.limit, replace=False))
        items = [items[i] for i in chosen]
    clips = []
    for item in items:
        if isinstance(item, Sample):
            samples = _resample(render_note(item, rng.uniform(*NOTE_SECONDS)), item.rate, rate)
            name = item.name
        else:
            decoded = _decode(Path(item), rate)
            if decoded is None:
                continue
            samples, name = decoded, Path(item).name
        samples = _crop(samples, rate, rng)
        if samples.size >= MIN_SECONDS * rate and np.max(np.abs(samples)) > 1e-3:
            clips.append(Clip(samples, rate, "not_cough", f"{source.package}:{name}"))
    if not clips:
        raise ValueError(f"{source.package}: no usable recordings")
    return clips


def _bank_samples(source: Source) -> list[Sample]:
    suffix, read = (".sf2", sf2_samples) if source.reader == "sf2" else (".pat", pat_samples)
    return [s for f in package_files(source.package) if f.endswith(suffix) for s in read(Path(f))]


def _decode(path: Path, rate: int) -> np.ndarray | None:
    try:
        return decode_audio(path.read_bytes(), rate, max_duration_s=600.0, timeout_s=60.0).samples
    except InputError:
        return None  # an unreadable file in a package is skipped, not fatal


def _resample(samples: np.ndarray, source_rate: int, rate: int) -> np.ndarray:
    if source_rate == rate:
        return samples.astype(np.float32)
    return soxr.resample(samples, source_rate, rate).astype(np.float32)


def _crop(samples: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
    longest = int(MAX_SECONDS * rate)
    if samples.size <= longest:
        return samples
    start = int(rng.integers(0, samples.size - longest + 1))
    return samples[start : start + longest]
