"""Generate hostile uploads, each with the error code the pipeline must end with.

    .venv/bin/python -m bench.hostile_files OUT_DIR      # writes the files and OUT_DIR/manifest.json

The clips are made with the audio fixtures the unit tests use (tests/fixtures/
audio_files.py: fixed seeds, encoded files cached on disk). The file on
disk has a safe local name; the object name it is uploaded under (which may itself
be the hostile part: control characters, `..`, a leading `/`, 600 bytes) is in the
manifest. Long clips stay small on disk: silence compresses to almost nothing, so
an hour of it is a few hundred kilobytes that a careless decoder would expand.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tests.fixtures.audio_files import (
    cough_like,
    encode,
    long_silence,
    pdf_file,
    png_file,
    random_bytes,
    sample_file,
    silence,
    text_file,
    video_without_audio,
    wav_header,
)

RATE = 16_000
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class HostileFile:
    """One hostile upload: the local file, the object name to use and the code it must end with."""

    file: str
    name: str
    expected: str
    why: str
    content_type: str = "application/octet-stream"


@dataclass(frozen=True)
class _Case:
    file: str
    expected: str
    why: str
    make: Callable[[], bytes]
    name: str | None = None
    content_type: str = "application/octet-stream"


def _wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    return encode(samples, rate, "wav_pcm16")


def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def _lying_wav(rate: int, channels: int, data_bytes: int, samples: np.ndarray) -> bytes:
    """A header whose fields claim what they like, followed by the samples actually there."""
    return wav_header(rate, channels, 16, data_bytes) + _pcm16(samples)


def _float_wav(values: np.ndarray) -> bytes:
    """A float32 wav with these raw samples (NaN and infinity included)."""
    data = values.astype("<f4").tobytes()
    return wav_header(RATE, 1, 32, len(data), fmt_code=3) + data


def _inf_samples() -> np.ndarray:
    x = cough_like(1.0, RATE)
    x[::2] = np.inf
    x[1::2] = -np.inf
    return x


def _some_nan_samples() -> np.ndarray:
    x = cough_like(2.0, RATE)
    x[RATE // 2 : RATE // 2 + 50] = np.nan
    return x


def _near_silence() -> np.ndarray:
    return (1e-5 * np.random.default_rng(7).standard_normal(2 * RATE)).astype(np.float32)  # ~-100 dBFS


def _head(fmt: str, keep: int) -> Callable[[], bytes]:
    """The first `keep` bytes of a valid clip: the format is recognisable, the stream is not there."""
    return lambda: sample_file(fmt, 1.0, RATE)[:keep]


def _tone(fmt: str, seconds: float, rate: int) -> Callable[[], bytes]:
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    return lambda: encode((0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32), rate, fmt)


def _jpeg() -> bytes:
    """A real JPEG (FFmpeg opens it as a one-frame video)."""
    return bytes.fromhex("ffd8ffe000104a46494600010100000100010000") + random_bytes(64, 5) + b"\xff\xd9"


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("cough.wav", date_time=(2020, 1, 1, 0, 0, 0)), _wav(cough_like()))
    return buf.getvalue()


def _too_large() -> bytes:
    """Just over the default 20 MiB limit: a valid wav header followed by noise."""
    body = random_bytes(20 * 1024 * 1024 + 4096, seed=11)
    return wav_header(48_000, 2, 16, len(body)) + body


def _names_case(file: str, name: str, why: str) -> _Case:
    """A valid clip under an invalid object name: the name check must refuse it."""
    return _Case(file, "invalid_name", why, lambda: _wav(cough_like()), name=name, content_type="audio/wav")


CASES: list[_Case] = [
    # Nothing, or not audio at all.
    _Case("empty.wav", "empty_audio", "zero bytes", lambda: b"", content_type="audio/wav"),
    _Case("empty.webm", "empty_audio", "zero bytes, webm name", lambda: b"", content_type="audio/webm"),
    _Case("random-16.wav", "unsupported_format", "16 random bytes", lambda: random_bytes(16, 4)),
    _Case(
        "random-sync.mp3",
        "corrupt_audio",
        "16 random bytes starting with an MPEG sync word",
        lambda: random_bytes(16, 1),
    ),
    _Case("random-4k.wav", "unsupported_format", "4 KiB of random bytes", lambda: random_bytes(4096, 2)),
    _Case("random-1m.webm", "unsupported_format", "1 MiB of random bytes", lambda: random_bytes(1 << 20, 3)),
    _Case("text.wav", "unsupported_format", "plain text", text_file),
    _Case(
        "page.webm", "unsupported_format", "HTML", lambda: b"<!doctype html><html><body>hi</body></html>\n"
    ),
    _Case("data.m4a", "unsupported_format", "JSON", lambda: json.dumps({"cough": True}).encode()),
    _Case("image.wav", "unsupported_format", "a PNG image", png_file),
    _Case("photo.mp3", "unsupported_format", "a JPEG header", _jpeg),
    _Case("doc.ogg", "unsupported_format", "a PDF", pdf_file),
    _Case("archive.flac", "unsupported_format", "a zip holding a wav", _zip),
    _Case("video.mp4", "unsupported_format", "mp4 with a video track and no audio", video_without_audio),
    # Truncated headers: the format is recognisable, the stream is not there.
    _Case("trunc.wav", "corrupt_audio", "wav cut inside its fmt chunk", _head("wav_pcm16", 30)),
    _Case("trunc.flac", "corrupt_audio", "flac cut inside STREAMINFO", _head("flac", 20)),
    _Case("trunc.ogg", "corrupt_audio", "ogg/vorbis cut in its first page", _head("ogg_vorbis", 40)),
    _Case("trunc.webm", "corrupt_audio", "webm/opus cut inside the EBML header", _head("webm_opus", 40)),
    _Case("trunc.m4a", "corrupt_audio", "m4a cut inside ftyp", _head("m4a_aac", 24)),
    _Case("trunc-moov.m4a", "corrupt_audio", "m4a cut inside its track list (moov)", _head("m4a_aac", 200)),
    # Headers that lie (absurd values are refused before any sample is read).
    _Case(
        "claims-4gb.wav",
        "too_short",
        "data size claims 4 GiB; 0.1 s is there (must not allocate the claim)",
        lambda: _lying_wav(RATE, 1, 0xFFFFFFF0, cough_like(0.1, RATE)),
    ),
    _Case(
        "rate-1hz.wav",
        "corrupt_audio",
        "sample rate 1 Hz",
        lambda: _lying_wav(1, 1, 200, cough_like(0.00625)),
    ),
    _Case(
        "rate-1mhz.wav",
        "corrupt_audio",
        "sample rate 1 MHz",
        lambda: _lying_wav(1_000_000, 1, 2_000_000, cough_like(1.0, 1_000_000)),
    ),
    _Case(
        "rate-0.wav",
        "corrupt_audio",
        "sample rate 0",
        lambda: _lying_wav(0, 1, 32_000, cough_like(1.0, RATE)),
    ),
    _Case(
        "channels-255.wav",
        "corrupt_audio",
        "255 channels",
        lambda: _lying_wav(RATE, 255, 255 * 2 * 1600, np.tile(cough_like(0.1, RATE), 255)),
    ),
    _Case(
        "channels-0.wav",
        "corrupt_audio",
        "0 channels",
        lambda: _lying_wav(RATE, 0, 32_000, cough_like(1.0, RATE)),
    ),
    # Samples that are not numbers.
    _Case("nan.wav", "corrupt_audio", "float32 samples, all NaN", lambda: _float_wav(np.full(RATE, np.nan))),
    _Case("inf.wav", "corrupt_audio", "float32 samples, +inf and -inf", lambda: _float_wav(_inf_samples())),
    _Case(
        "some-nan.wav",
        "corrupt_audio",
        "a cough with 50 NaN samples",
        lambda: _float_wav(_some_nan_samples()),
    ),
    # Silence, too short, nothing inside.
    _Case("silence.wav", "silent_audio", "2 s of digital silence", lambda: _wav(silence(2.0, RATE))),
    _Case("near-silence.wav", "silent_audio", "2 s at about -100 dBFS", lambda: _wav(_near_silence())),
    _Case(
        "silence.webm",
        "silent_audio",
        "2 s of silence, webm/opus",
        lambda: encode(silence(2.0), RATE, "webm_opus"),
    ),
    _Case("silence.flac", "silent_audio", "2 s of silence, flac", lambda: encode(silence(2.0), RATE, "flac")),
    _Case("no-samples.wav", "empty_audio", "a valid wav header and zero samples", lambda: _wav(silence(0.0))),
    _Case("one-sample.wav", "too_short", "a single sample", lambda: _wav(cough_like(1.0, RATE)[:1])),
    _Case("short-0.1s.wav", "too_short", "0.1 s of cough", lambda: sample_file("wav_pcm16", 0.1, RATE)),
    _Case("short-0.1s.webm", "too_short", "0.1 s of cough, webm/opus", lambda: sample_file("webm_opus", 0.1)),
    _Case(
        "short-0.1s.m4a",
        "too_short",
        "0.1 s of cough, m4a/aac (decodes as 0.128 s: whole AAC frames)",
        lambda: sample_file("m4a_aac", 0.1),
    ),
    # Too long: cheap to store, expensive to expand.
    _Case("long-40s.wav", "too_long", "40 s at 8 kHz", lambda: sample_file("wav_pcm16", 40.0, 8000)),
    _Case(
        "long-1h-silence.flac",
        "too_long",
        "1 h of silence at 8 kHz in flac (~90 KB: a decompression bomb)",
        lambda: long_silence("flac", 3600),
    ),
    _Case(
        "long-20min-silence.ogg",
        "too_long",
        "20 min of silence in ogg/vorbis at 8 kHz (decompression-heavy)",
        lambda: long_silence("ogg_vorbis", 1200),
    ),
    _Case(
        "long-10min.mp3",
        "too_long",
        "10 min of a tone in mp3 (no length in the header)",
        _tone("mp3", 600, 8000),
    ),
    _Case(
        "long-3min.webm",
        "too_long",
        "3 min of a tone in streamed webm/opus (no length in the header)",
        _tone("webm_opus", 180, RATE),
    ),
    _Case("too-large.wav", "too_large", "just over 20 MiB", _too_large, content_type="audio/wav"),
    # Names: a valid clip uploaded under a name the contract refuses.
    _names_case("name-ctrl.wav", "cough\x01.wav", "a control character"),
    _names_case("name-newline.wav", "cough\n.wav", "a newline"),
    _names_case("name-del.wav", "cough\x7f.wav", "DEL"),
    _names_case("name-dotdot.wav", "../etc/cough.wav", "a leading '..' segment"),
    _names_case("name-mid-dotdot.wav", "a/../../b.wav", "'..' segments in the middle"),
    _names_case("name-slash.wav", "/root/cough.wav", "a leading '/'"),
    _names_case("name-600.wav", "c" * 596 + ".wav", "600 bytes"),
    _names_case("name-600-utf8.wav", "咳" * 200 + ".wav", "604 bytes of 3-byte characters"),
    # Names the contract accepts: the content decides (here: silence).
    _Case(
        "name-unicode.wav",
        "silent_audio",
        "a unicode name with a folder, emoji and an RTL mark (valid)",
        lambda: _wav(silence(1.0)),
        name="咳嗽/тест 🎤\u202e.wav",
        content_type="audio/wav",
    ),
    _Case(
        "name-512.wav",
        "silent_audio",
        "exactly 512 bytes (valid)",
        lambda: _wav(silence(1.0)),
        name="é" * 254 + ".wav",
        content_type="audio/wav",
    ),
]


def generate(folder: Path) -> list[HostileFile]:
    """Write every hostile case into `folder` (plus manifest.json) and return the list."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for case in CASES:
        (folder / case.file).write_bytes(case.make())
        name = case.name if case.name is not None else f"hostile/{case.file}"
        files.append(HostileFile(case.file, name, case.expected, case.why, case.content_type))
    (folder / MANIFEST).write_text(json.dumps([asdict(f) for f in files], indent=1, ensure_ascii=False))
    return files


def load(folder: Path) -> list[HostileFile]:
    """Read a manifest written by `generate`."""
    return [HostileFile(**d) for d in json.loads((folder / MANIFEST).read_text())]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    files = generate(Path(argv[0]))
    total = sum((Path(argv[0]) / f.file).stat().st_size for f in files)
    print(f"{len(files)} hostile files, {total / 1e6:.1f} MB, in {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
