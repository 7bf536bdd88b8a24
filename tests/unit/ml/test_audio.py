"""shared/ml/audio.py: every format browsers and phones record, content detection, typed errors."""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from shared.config import settings
from shared.errors import InputError
from shared.ml.audio import (
    BLOCK_FRAMES,
    MAX_CHANNELS,
    MAX_SOURCE_RATE,
    _mix_to_mono,
    decode_audio,
    sniff_container,
)
from tests.fixtures import audio_files as af

TARGET = 16_000
RATES = (8_000, 44_100, 48_000)


def _duration_tolerance(fmt: str, source_rate: int) -> float:
    """AAC keeps up to two frames of encoder delay and padding; the rest are within 10 ms."""
    return 2 * 1024 / source_rate + 0.01 if "aac" in fmt else 0.01


def _refusal(data: bytes, **kwargs: float) -> InputError:
    with pytest.raises(InputError) as caught:
        decode_audio(data, TARGET, **kwargs)
    return caught.value


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("fmt", list(af.FORMATS))
def test_decodes_every_format_to_mono_at_the_target_rate(fmt: str, rate: int, channels: int) -> None:
    spec = af.FORMATS[fmt]
    audio = decode_audio(af.sample_file(fmt, 1.0, rate, channels), TARGET)

    assert audio.format == spec.detected
    assert audio.source_rate == (spec.decoded_rate or rate)
    assert audio.channels == channels
    assert audio.sample_rate == TARGET
    assert audio.duration_s == pytest.approx(1.0, abs=_duration_tolerance(fmt, audio.source_rate))
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.samples.flags.c_contiguous
    assert abs(audio.samples.size - audio.duration_s * TARGET) <= 1
    assert np.abs(audio.samples).max() <= 1.0
    assert np.abs(audio.samples).max() > 0.1  # the cough burst survived


@pytest.mark.parametrize("fmt", [name for name, spec in af.FORMATS.items() if not spec.lossy])
def test_lossless_formats_decode_to_the_source_samples(fmt: str) -> None:
    source = af.cough_like(0.5, TARGET)
    audio = decode_audio(af.encode(source, TARGET, fmt), TARGET)
    np.testing.assert_allclose(audio.samples, source, atol=1 / 32768)


def test_float_wav_decodes_bit_exactly() -> None:
    source = af.cough_like(0.5, TARGET)
    audio = decode_audio(af.encode(source, TARGET, "wav_float32"), TARGET)
    np.testing.assert_array_equal(audio.samples, source)


def test_stereo_is_mixed_as_the_mean_of_the_channels() -> None:
    stereo = af.tone(0.5, TARGET, channels=2)  # right channel at half the gain of the left
    audio = decode_audio(af.encode(stereo, TARGET, "wav_float32"), TARGET)
    np.testing.assert_allclose(audio.samples, stereo.mean(axis=1), atol=1e-7)


def test_stereo_mix_is_the_same_through_ffmpeg() -> None:
    stereo = af.tone(0.5, 48_000, channels=2)
    via_sndfile = decode_audio(af.encode(stereo, 48_000, "flac"), TARGET)
    via_ffmpeg = decode_audio(af.encode(stereo, 48_000, "mp4_aac_fragmented"), TARGET)
    middle = slice(TARGET // 10, TARGET * 4 // 10)  # away from codec onset and padding

    def rms(x: np.ndarray) -> float:
        return float(np.sqrt(np.mean(x[middle] ** 2)))

    assert rms(via_ffmpeg.samples) == pytest.approx(rms(via_sndfile.samples), rel=0.05)


def test_resampling_keeps_the_pitch() -> None:
    audio = decode_audio(af.encode(af.tone(1.0, 44_100, freq=1000.0), 44_100, "wav_pcm16"), TARGET)
    spectrum = np.abs(np.fft.rfft(audio.samples))
    peak_hz = np.argmax(spectrum) * TARGET / audio.samples.size
    assert peak_hz == pytest.approx(1000.0, abs=2.0)


def test_float_samples_beyond_full_scale_are_clipped() -> None:
    loud = af.tone(0.5, TARGET, amplitude=1.5)
    audio = decode_audio(af.encode(loud, TARGET, "wav_float32"), TARGET)
    assert np.abs(audio.samples).max() == pytest.approx(1.0)


def test_long_input_is_read_in_blocks() -> None:
    seconds = 3 * BLOCK_FRAMES / 8_000 + 0.1  # several libsndfile blocks
    audio = decode_audio(af.sample_file("wav_pcm16", seconds, 8_000, 2), TARGET)
    assert audio.duration_s == pytest.approx(seconds, abs=1e-3)


def test_a_wav_codec_libsndfile_lacks_is_decoded_by_ffmpeg() -> None:
    audio = decode_audio(af.wav_g726(1.0), TARGET)
    assert (audio.format, audio.source_rate, audio.channels) == ("wav", 8_000, 1)
    assert audio.duration_s == pytest.approx(1.0, abs=0.05)
    assert np.abs(audio.samples).max() > 0.05


@pytest.mark.parametrize(
    ("dtype", "silence", "full_scale"),
    [("uint8", 128, 255), ("int16", 0, 32767), ("int32", 0, 2**31 - 1), ("float32", 0.0, 1.0)],
)
def test_every_sample_type_mixes_to_the_same_full_scale(
    dtype: str, silence: float, full_scale: float
) -> None:
    channels = np.array([[silence, full_scale, silence], [silence, full_scale, full_scale]], dtype=dtype)
    mono = _mix_to_mono(channels)
    assert mono.dtype == np.float32
    np.testing.assert_allclose(mono, [0.0, 1.0, 0.5], atol=1e-2)


@pytest.mark.parametrize(("content", "named"), [("webm_opus", "cough.wav"), ("wav_pcm16", "cough.webm")])
def test_content_decides_the_format_not_the_file_name(tmp_path: Path, content: str, named: str) -> None:
    path = tmp_path / named
    path.write_bytes(af.sample_file(content))
    assert decode_audio(path.read_bytes(), TARGET).format == af.FORMATS[content].detected


def test_mp3_is_recognised_with_and_without_an_id3_tag() -> None:
    tagged = af.sample_file("mp3")
    assert tagged.startswith(b"ID3")
    bare = tagged[tagged.index(b"\xff\xfb") :]  # from the first MPEG frame header
    assert sniff_container(bare) == "mp3"
    assert decode_audio(bare, TARGET).duration_s == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (af.text_file(), "text"),
        (af.png_file(), "PNG image"),
        (af.pdf_file(), "PDF document"),
        (af.random_bytes(), "unknown"),
        (b"<!DOCTYPE html><html><body>404</body></html>", "HTML"),
    ],
)
def test_not_audio_is_unsupported_and_says_what_it_looks_like(data: bytes, what: str) -> None:
    error = _refusal(data)
    assert error.code == "unsupported_format"
    assert what in error.message


def test_video_without_sound_is_unsupported() -> None:
    error = _refusal(af.video_without_audio())
    assert error.code == "unsupported_format"
    assert "no audio track" in error.message


@pytest.mark.parametrize("data", [b"", af.wav_header()], ids=["zero-bytes", "header-only"])
def test_no_samples_is_empty_audio(data: bytes) -> None:
    assert _refusal(data).code == "empty_audio"


@pytest.mark.parametrize(
    "data",
    [
        af.truncated(af.sample_file("m4a_aac"), 0.5),
        af.truncated(af.sample_file("ogg_opus"), 0.05),
        af.truncated(af.sample_file("flac"), 0.3),
        af.sample_file("wav_pcm16")[:30],
        af.wav_nonfinite(),
        af.wav_header(rate=MAX_SOURCE_RATE + 1, data_bytes=3200) + bytes(3200),
        af.wav_header(rate=10, data_bytes=3200) + bytes(3200),
        af.wav_header(channels=MAX_CHANNELS + 1, data_bytes=6600) + bytes(6600),
        b"OggS" + af.random_bytes(2000),
        b"\x1a\x45\xdf\xa3webm" + af.random_bytes(2000),
    ],
    ids=[
        "truncated-m4a",
        "truncated-ogg",
        "truncated-flac",
        "header-cut",
        "nan-inf",
        "absurd-rate",
        "tiny-rate",
        "too-many-channels",
        "ogg-magic-then-noise",
        "webm-magic-then-noise",
    ],
)
def test_damaged_audio_is_corrupt(data: bytes) -> None:
    error = _refusal(data)
    assert error.code == "corrupt_audio"
    assert "Errno" not in error.message and "BytesIO" not in error.message


def test_a_damaged_header_raises_nothing_inside_libsndfile(monkeypatch: pytest.MonkeyPatch) -> None:
    """libsndfile seeks before the start of this AIFF; an exception in its C callback would be
    swallowed and printed as a traceback ("Exception ignored from cffi callback")."""
    swallowed: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", swallowed.append)
    data = bytearray(af.sample_file("aiff", 0.5))
    at = data.index(b"SSND")
    data[at : at + 4] = b"SSNX"  # rename the sound-data chunk
    assert _refusal(bytes(data)).code in {"empty_audio", "corrupt_audio"}
    assert swallowed == []


def test_a_header_claiming_gigabytes_allocates_only_what_is_there() -> None:
    data = af.wav_claiming(claimed_bytes=0xFFFFFFF0, actual_bytes=3200)
    tracemalloc.start()
    try:
        audio = decode_audio(data, TARGET)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert audio.duration_s == pytest.approx(0.1)
    assert peak < 5_000_000


def test_too_long_is_refused_at_the_configured_limit() -> None:
    limit = settings().MAX_DURATION_S
    data = af.encode(af.tone(limit + 1, 8_000), 8_000, "wav_pcm16")
    error = _refusal(data)
    assert error.code == "too_long"
    assert f"{limit:g} s" in error.message
    assert decode_audio(data, TARGET, max_duration_s=limit + 2).duration_s == pytest.approx(limit + 1)


@pytest.mark.parametrize(("fmt", "source_rate"), [("flac", 8_000), ("webm_opus", 48_000)])
def test_a_decompression_bomb_stops_at_the_limit(fmt: str, source_rate: int) -> None:
    """Ten minutes of silence compress to a few hundred KB; decoding must stop near 30 s."""
    data = af.long_silence(fmt, 600)
    full_decode_bytes = 600 * source_rate * 4
    tracemalloc.start()
    try:
        error = _refusal(data, max_duration_s=30.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.code == "too_long"
    assert peak < full_decode_bytes / 10


@pytest.mark.parametrize("fmt", ["wav_pcm16", "webm_opus"])
def test_decoding_past_the_deadline_is_refused(fmt: str) -> None:
    error = _refusal(af.sample_file(fmt), timeout_s=0.0)
    assert error.code == "corrupt_audio"
    assert "longer than 0 s" in error.message


def test_target_rate_out_of_range_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="target_rate"):
        decode_audio(af.sample_file("wav_pcm16"), 0)


@pytest.mark.parametrize("fmt", ["wav_pcm16", "flac", "webm_opus", "m4a_aac", "mp3", "ogg_vorbis"])
@hyp_settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(0, 10_000), flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255))))
def test_damaged_files_never_escape_as_other_exceptions(
    fmt: str, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(af.sample_file(fmt, 0.5))
    for position, value in flips:
        data[position % len(data)] = value
    data = data[: len(data) - cut % len(data)]
    try:
        audio = decode_audio(bytes(data), TARGET)
    except InputError as error:
        assert error.code in {"unsupported_format", "corrupt_audio", "empty_audio", "too_long"}
    else:
        assert audio.samples.dtype == np.float32
        assert np.isfinite(audio.samples).all()
        assert np.abs(audio.samples).max() <= 1.0
