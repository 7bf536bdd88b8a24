"""Instrument samples out of the two sample-bank formats Debian packages ship, as plain notes.

A SoundFont (.sf2) keeps every sample as 16-bit PCM in one `smpl` chunk, described by
46-byte `shdr` records; a Gravis patch (.pat) holds a few samples, each behind a 96-byte
header. Both give a sample's PCM, its rate and its loop. `render_note` plays a sample
once and repeats its loop to the wanted length with a release fade, the way a
synthesizer sounds a held note at the sample's own pitch.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SF2_ROM = 0x8000  # sample types with this bit live in a synthesizer's ROM, not the file
SF2_MONO, SF2_LEFT = 1, 4  # right channels (2) and links (8) repeat their left twin


@dataclass(frozen=True)
class Sample:
    name: str
    pcm: np.ndarray  # float32 in [-1, 1]
    rate: int
    loop: tuple[int, int] | None  # [start, end) in samples


def _chunks(data: bytes, start: int, end: int) -> dict[str, tuple[int, int]]:
    """RIFF sub-chunks between `start` and `end`: id → (offset of the payload, size); LISTs by type."""
    found: dict[str, tuple[int, int]] = {}
    position = start
    while position + 8 <= end:
        chunk_id, size = (
            data[position : position + 4].decode("latin-1"),
            struct.unpack_from("<I", data, position + 4)[0],
        )
        payload = position + 8
        if chunk_id == "LIST":
            found[data[payload : payload + 4].decode("latin-1")] = (payload + 4, size - 4)
        else:
            found[chunk_id] = (payload, size)
        position = payload + size + (size & 1)
    return found


def sf2_samples(path: Path) -> list[Sample]:
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise ValueError(f"{path}: not a SoundFont")
    top = _chunks(data, 12, len(data))
    sdta, pdta = _chunks(data, *_span(top["sdta"])), _chunks(data, *_span(top["pdta"]))
    smpl_offset, smpl_size = sdta["smpl"]
    pcm = np.frombuffer(data, "<i2", smpl_size // 2, smpl_offset)
    shdr_offset, shdr_size = pdta["shdr"]
    samples = []
    for i in range(shdr_size // 46 - 1):  # the last record is the terminal "EOS"
        name, start, end, loop_start, loop_end, rate, _, _, _, kind = struct.unpack_from(
            "<20s5IBbHH", data, shdr_offset + 46 * i
        )
        if kind & SF2_ROM or kind not in (SF2_MONO, SF2_LEFT) or end <= start or rate <= 0:
            continue
        loop = (loop_start - start, loop_end - start) if start <= loop_start < loop_end <= end else None
        samples.append(Sample(_name(name), pcm[start:end].astype(np.float32) / 32768.0, rate, loop))
    return samples


def _span(chunk: tuple[int, int]) -> tuple[int, int]:
    return chunk[0], chunk[0] + chunk[1]


def pat_samples(path: Path) -> list[Sample]:
    data = path.read_bytes()
    if not data.startswith(b"GF1PATCH1"):
        raise ValueError(f"{path}: not a Gravis patch")
    count = data[198]  # the layer header's sample count (header 129 + instrument 63 + 6)
    position, samples = 239, []  # headers: patch 129 + instrument 63 + layer 47
    for _ in range(count):
        name = data[position : position + 7]
        size, loop_start, loop_end, rate = struct.unpack_from("<3IH", data, position + 8)
        modes = data[position + 55]
        body = data[position + 96 : position + 96 + size]
        position += 96 + size
        sixteen, unsigned = modes & 1, modes & 2
        dtype = ("<u2" if unsigned else "<i2") if sixteen else ("u1" if unsigned else "i1")
        pcm = np.frombuffer(body, dtype).astype(np.float32)
        if unsigned:
            pcm -= 32768.0 if sixteen else 128.0
        pcm /= 32768.0 if sixteen else 128.0
        width = 2 if sixteen else 1
        loop = (loop_start // width, loop_end // width) if modes & 4 and loop_start < loop_end else None
        if pcm.size and rate > 0:
            samples.append(Sample(_name(name), pcm, rate, loop))
    return samples


def _name(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("latin-1").strip()


def render_note(sample: Sample, seconds: float) -> np.ndarray:
    """The sample played for `seconds` (its loop repeated if it has one), faded out over the last 30 %."""
    wanted = int(seconds * sample.rate)
    pcm = sample.pcm
    if sample.loop and pcm.size < wanted:
        start, end = sample.loop
        repeats = int(np.ceil((wanted - start) / (end - start)))
        pcm = np.concatenate([pcm[:start], np.tile(pcm[start:end], repeats)])
    pcm = pcm[:wanted].copy()
    release = max(1, int(pcm.size * 0.3))
    pcm[-release:] *= np.linspace(1.0, 0.0, release, dtype=np.float32)
    return pcm
