"""Generate hostile uploads, each with the error code the pipeline must end with.

    python bench/hostile_files.py OUT_DIR      # writes the files and OUT_DIR/manifest.json

Every case is deterministic (fixed seeds, ffmpeg in bit-exact mode). The file on
disk has a safe local name; the object name it is uploaded under (which may itself
be the hostile part: control characters, `..`, a leading `/`, 600 bytes) is in the
manifest. Long clips stay small on disk: silence compresses to almost nothing, so
an hour of it is a few hundred kilobytes that a careless decoder would expand.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

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


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def cough_like(seconds: float = 1.0, rate: int = RATE, seed: int = 1) -> np.ndarray:
    """A loud, cough-shaped noise burst (valid audio, the base for mutations)."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    envelope = np.exp(-((t - 0.15) % 0.5) * 12.0)
    return (0.5 * envelope * _rng(seed).standard_normal(n)).clip(-1, 1).astype(np.float32)


def _sf_bytes(samples: np.ndarray, rate: int, fmt: str, subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, samples, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def wav(samples: np.ndarray, rate: int = RATE, subtype: str = "PCM_16") -> bytes:
    return _sf_bytes(samples, rate, "WAV", subtype)


def flac(samples: np.ndarray, rate: int = RATE) -> bytes:
    return _sf_bytes(samples, rate, "FLAC", "PCM_16")


def ffmpeg_encode(lavfi: str, seconds: float, args: list[str], suffix: str) -> bytes:
    """Encode a lavfi source with ffmpeg, bit-exact so the bytes are reproducible."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"out{suffix}"
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", lavfi, "-t", str(seconds)]
        cmd += ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags", "+bitexact", *args, str(out)]
        subprocess.run(cmd, check=True)
        return out.read_bytes()


def ffmpeg_audio(samples: np.ndarray, args: list[str], suffix: str, rate: int = RATE) -> bytes:
    """Encode given samples with ffmpeg (via a temporary wav), bit-exact."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.wav", Path(tmp) / f"out{suffix}"
        src.write_bytes(wav(samples, rate))
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(src), "-map_metadata", "-1"]
        cmd += ["-fflags", "+bitexact", "-flags", "+bitexact", *args, str(out)]
        subprocess.run(cmd, check=True)
        return out.read_bytes()


def wav_header(
    *,
    rate: int,
    channels: int,
    bits: int = 16,
    fmt_tag: int = 1,
    data_bytes: int,
    riff_bytes: int | None = None,
) -> bytes:
    """A canonical 44-byte RIFF/WAVE header whose fields can lie."""
    block = channels * bits // 8
    riff = riff_bytes if riff_bytes is not None else 36 + data_bytes
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    return (
        b"RIFF"
        + struct.pack("<I", riff & 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes & 0xFFFFFFFF)
    )


def pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def png_bytes() -> bytes:
    """A real 8x8 grey PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([128] * 8) for _ in range(8))
    ihdr = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def jpeg_bytes() -> bytes:
    return ffmpeg_encode("color=c=gray:s=16x16", 0.04, ["-frames:v", "1", "-f", "mjpeg"], ".jpg")


def pdf_bytes() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )


def zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("cough.wav", date_time=(2020, 1, 1, 0, 0, 0)), wav(cough_like()))
    return buf.getvalue()


def video_only_mp4() -> bytes:
    return ffmpeg_encode("testsrc=s=32x32:r=5", 1.0, ["-an", "-c:v", "mpeg4", "-f", "mp4"], ".mp4")


def random_bytes(n: int, seed: int) -> bytes:
    return _rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def float_wav_with(values: np.ndarray) -> bytes:
    """A float32 wav whose samples are written raw (soundfile would refuse NaN on some paths)."""
    data = values.astype("<f4").tobytes()
    return wav_header(rate=RATE, channels=1, bits=32, fmt_tag=3, data_bytes=len(data)) + data


def _nan_samples() -> np.ndarray:
    return np.full(RATE, np.nan, dtype=np.float32)


def _inf_samples() -> np.ndarray:
    x = cough_like()
    x[::2] = np.inf
    x[1::2] = -np.inf
    return x


def _some_nan_samples() -> np.ndarray:
    x = cough_like(2.0)
    x[RATE // 2 : RATE // 2 + 50] = np.nan
    return x


def _silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(seconds * rate), dtype=np.float32)


def _near_silence() -> np.ndarray:
    return (1e-5 * _rng(7).standard_normal(2 * RATE)).astype(np.float32)  # about -100 dBFS


def _truncated(data: bytes, keep: int) -> bytes:
    return data[:keep]


def _too_large() -> bytes:
    """Just over the default 20 MiB limit: a valid wav header followed by noise."""
    body = random_bytes(20 * 1024 * 1024 + 4096, seed=11)
    return wav_header(rate=48_000, channels=2, data_bytes=len(body)) + body


def _names_case(file: str, name: str, why: str) -> _Case:
    """A valid clip under an invalid object name: the name check must refuse it."""
    return _Case(file, "invalid_name", why, lambda: wav(cough_like()), name=name, content_type="audio/wav")


OPUS = ["-c:a", "libopus", "-b:a", "6k"]
OGG_VORBIS = ["-c:a", "libvorbis", "-q:a", "0"]
AAC = ["-c:a", "aac", "-b:a", "32k"]
MP3 = ["-c:a", "libmp3lame", "-b:a", "8k"]

CASES: list[_Case] = [
    # Nothing, or not audio at all.
    _Case("empty.wav", "empty_audio", "zero bytes", lambda: b"", content_type="audio/wav"),
    _Case("empty.webm", "empty_audio", "zero bytes, webm name", lambda: b"", content_type="audio/webm"),
    _Case("random-16.wav", "unsupported_format", "16 random bytes", lambda: random_bytes(16, 1)),
    _Case("random-4k.wav", "unsupported_format", "4 KiB random bytes", lambda: random_bytes(4096, 2)),
    _Case("random-1m.webm", "unsupported_format", "1 MiB random bytes", lambda: random_bytes(1 << 20, 3)),
    _Case("text.wav", "unsupported_format", "plain text", lambda: b"this is not a cough\n" * 20),
    _Case(
        "page.webm", "unsupported_format", "HTML", lambda: b"<!doctype html><html><body>hi</body></html>\n"
    ),
    _Case("data.m4a", "unsupported_format", "JSON", lambda: json.dumps({"cough": True}).encode()),
    _Case("image.wav", "unsupported_format", "a PNG image", png_bytes),
    _Case("photo.mp3", "unsupported_format", "a JPEG image (FFmpeg opens it as video)", jpeg_bytes),
    _Case("doc.ogg", "unsupported_format", "a PDF", pdf_bytes),
    _Case("archive.flac", "unsupported_format", "a zip holding a wav", zip_bytes),
    _Case("video.mp4", "unsupported_format", "mp4 with a video stream and no audio", video_only_mp4),
    # Truncated headers: the format is recognisable, the stream is not there.
    _Case("trunc.wav", "corrupt_audio", "wav cut inside fmt", lambda: _truncated(wav(cough_like()), 30)),
    _Case(
        "trunc.flac",
        "corrupt_audio",
        "flac cut inside STREAMINFO",
        lambda: _truncated(flac(cough_like()), 20),
    ),
    _Case(
        "trunc.ogg",
        "corrupt_audio",
        "ogg/vorbis cut in its first page",
        lambda: _truncated(ffmpeg_audio(cough_like(), OGG_VORBIS, ".ogg"), 40),
    ),
    _Case(
        "trunc.webm",
        "corrupt_audio",
        "webm/opus cut inside the EBML header",
        lambda: _truncated(ffmpeg_audio(cough_like(), OPUS, ".webm"), 40),
    ),
    _Case(
        "trunc.m4a",
        "corrupt_audio",
        "m4a cut after ftyp",
        lambda: _truncated(ffmpeg_audio(cough_like(), AAC, ".m4a"), 40),
    ),
    # Headers that lie.
    _Case(
        "claims-4gb.wav",
        "too_short",
        "RIFF and data sizes claim 4 GiB; 0.1 s is there (must not allocate the claim)",
        lambda: (
            wav_header(rate=RATE, channels=1, data_bytes=0xFFFFFFF0, riff_bytes=0xFFFFFFFF)
            + pcm16(cough_like(0.1))
        ),
    ),
    _Case(
        "rate-1hz.wav",
        "unsupported_format",
        "sample rate 1 Hz",
        lambda: wav_header(rate=1, channels=1, data_bytes=200) + pcm16(cough_like(100 / RATE)),
    ),
    _Case(
        "rate-1mhz.wav",
        "unsupported_format",
        "sample rate 1 MHz",
        lambda: wav_header(rate=1_000_000, channels=1, data_bytes=2_000_000) + pcm16(cough_like(62.5)),
    ),
    _Case(
        "rate-0.wav",
        "corrupt_audio",
        "sample rate 0",
        lambda: wav_header(rate=0, channels=1, data_bytes=32000) + pcm16(cough_like()),
    ),
    _Case(
        "channels-255.wav",
        "unsupported_format",
        "255 channels",
        lambda: (
            wav_header(rate=RATE, channels=255, data_bytes=255 * 2 * 1600)
            + pcm16(np.tile(cough_like(0.1), 255))
        ),
    ),
    _Case(
        "channels-0.wav",
        "corrupt_audio",
        "0 channels",
        lambda: wav_header(rate=RATE, channels=0, data_bytes=32000) + pcm16(cough_like()),
    ),
    # Samples that are not numbers.
    _Case("nan.wav", "corrupt_audio", "float32 samples, all NaN", lambda: float_wav_with(_nan_samples())),
    _Case("inf.wav", "corrupt_audio", "float32 samples, +inf/-inf", lambda: float_wav_with(_inf_samples())),
    _Case(
        "some-nan.wav",
        "corrupt_audio",
        "a cough with 50 NaN samples",
        lambda: float_wav_with(_some_nan_samples()),
    ),
    # Silence, too short, nothing inside.
    _Case("silence.wav", "silent_audio", "2 s of digital silence", lambda: wav(_silence(2.0))),
    _Case("near-silence.wav", "silent_audio", "2 s at about -100 dBFS", lambda: wav(_near_silence())),
    _Case(
        "silence.webm",
        "silent_audio",
        "2 s of silence, webm/opus",
        lambda: ffmpeg_audio(_silence(2.0), OPUS, ".webm"),
    ),
    _Case("silence.flac", "silent_audio", "2 s of silence, flac", lambda: flac(_silence(2.0))),
    _Case("no-samples.wav", "empty_audio", "a valid wav header and zero samples", lambda: wav(_silence(0.0))),
    _Case("one-sample.wav", "too_short", "a single sample", lambda: wav(cough_like()[:1])),
    _Case("short-0.1s.wav", "too_short", "0.1 s of cough", lambda: wav(cough_like(0.1))),
    _Case(
        "short-0.1s.webm",
        "too_short",
        "0.1 s of cough, webm/opus",
        lambda: ffmpeg_audio(cough_like(0.1), OPUS, ".webm"),
    ),
    _Case(
        "short-0.2s.m4a",
        "too_short",
        "0.2 s of cough, m4a/aac",
        lambda: ffmpeg_audio(cough_like(0.2), AAC, ".m4a"),
    ),
    # Too long, and cheap to store but expensive to expand.
    _Case("long-40s.wav", "too_long", "40 s at 8 kHz", lambda: wav(cough_like(40.0, rate=8000), rate=8000)),
    _Case(
        "long-1h-silence.flac",
        "too_long",
        "1 h of silence at 8 kHz in flac (~100 KB on disk)",
        lambda: flac(_silence(3600.0, 8000), rate=8000),
    ),
    _Case(
        "long-20min-silence.ogg",
        "too_long",
        "20 min of silence in ogg/vorbis at 8 kHz (~110 KB, decompression-heavy)",
        lambda: ffmpeg_encode("anullsrc=r=8000:cl=mono", 1200, ["-c:a", "libvorbis", "-q:a", "-1"], ".ogg"),
    ),
    _Case(
        "long-10min.mp3",
        "too_long",
        "10 min of a tone in mp3 at 8 kb/s (no length in the header)",
        lambda: ffmpeg_encode("sine=f=300:r=8000", 600, MP3, ".mp3"),
    ),
    _Case(
        "long-3min.webm",
        "too_long",
        "3 min of a tone in webm/opus (no length in the header)",
        lambda: ffmpeg_encode(
            "sine=f=300:r=16000", 180, [*OPUS, "-compression_level", "0", "-f", "webm"], ".webm"
        ),
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
        lambda: wav(_silence(1.0)),
        name="咳嗽/тест 🎤\u202e.wav",
        content_type="audio/wav",
    ),
    _Case(
        "name-512.wav",
        "silent_audio",
        "exactly 512 bytes (valid)",
        lambda: wav(_silence(1.0)),
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
