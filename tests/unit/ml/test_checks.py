"""shared/ml/checks.py: size, duration, silence and finiteness, with the measured value in each message."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from shared.config import settings
from shared.errors import InputError
from shared.ml.audio import DecodedAudio, decode_audio
from shared.ml.checks import check_audio, check_upload_size, levels_dbfs
from tests.fixtures import audio_files as af

RATE = 16_000


def _audio(samples: np.ndarray, rate: int = RATE) -> DecodedAudio:
    samples = np.asarray(samples, dtype=np.float32)
    return DecodedAudio(samples, rate, rate, 1, samples.size / rate, "wav")


def _refusal(audio: DecodedAudio) -> InputError:
    with pytest.raises(InputError) as caught:
        check_audio(audio)
    return caught.value


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """Re-read settings after the test changed the environment, and again after it."""
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_zero_bytes_is_empty_audio() -> None:
    with pytest.raises(InputError) as caught:
        check_upload_size(0)
    assert caught.value.code == "empty_audio"


def test_size_at_the_limit_passes_and_one_byte_more_is_too_large() -> None:
    check_upload_size(1000, limit=1000)
    with pytest.raises(InputError) as caught:
        check_upload_size(1001, limit=1000)
    assert caught.value.code == "too_large"
    assert "1001 bytes" in caught.value.message and "1000 bytes" in caught.value.message


def test_default_size_limit_comes_from_settings() -> None:
    limit = settings().MAX_UPLOAD_BYTES
    check_upload_size(limit)
    with pytest.raises(InputError) as caught:
        check_upload_size(25 * 2**20)
    assert caught.value.code == "too_large"
    assert caught.value.message == f"The file is 25.0 MiB; at most {limit / 2**20:.1f} MiB is allowed."


def test_too_short_says_the_length_and_the_minimum() -> None:
    error = _refusal(_audio(af.tone(0.1, RATE)))
    assert error.code == "too_short"
    assert error.message == "The recording is 0.1 s long; at least 0.25 s is needed."


def test_too_long_says_the_length_and_the_maximum() -> None:
    error = _refusal(_audio(af.tone(31.2, 8_000), rate=8_000))
    assert error.code == "too_long"
    assert error.message == "The recording is 31.2 s long; at most 30 s is allowed."


@pytest.mark.parametrize("seconds", [0.25, 30.0])
def test_lengths_at_the_limits_pass(seconds: float) -> None:
    check_audio(_audio(af.tone(seconds, 8_000), rate=8_000))


def test_all_zero_samples_are_silent() -> None:
    error = _refusal(_audio(af.silence(1.0, RATE)))
    assert error.code == "silent_audio"
    assert "every sample is zero" in error.message


def test_a_very_quiet_recording_is_silent_and_says_its_level() -> None:
    quiet = af.tone(1.0, RATE, amplitude=10 ** (-67 / 20))  # peak -67 dBFS, RMS -70 dBFS
    error = _refusal(_audio(quiet))
    assert error.code == "silent_audio"
    assert "-70.0 dBFS RMS" in error.message
    assert "peak -67.0 dBFS" in error.message
    assert "-60 dBFS" in error.message


def test_a_quiet_but_audible_recording_passes() -> None:
    check_audio(_audio(af.tone(1.0, RATE, amplitude=10 ** (-50 / 20))))


def test_a_constant_offset_counts_as_silence() -> None:
    assert _refusal(_audio(np.full(RATE, 0.5))).code == "silent_audio"


def test_non_finite_samples_are_corrupt() -> None:
    samples = af.tone(1.0, RATE)
    samples[100] = np.nan
    assert _refusal(_audio(samples)).code == "corrupt_audio"


def test_levels_of_a_full_scale_sine() -> None:
    peak, rms = levels_dbfs(af.tone(1.0, RATE, freq=1000.0, amplitude=1.0))
    assert peak == pytest.approx(0.0, abs=0.01)
    assert rms == pytest.approx(-3.01, abs=0.01)


@pytest.mark.parametrize("fmt", ["wav_pcm16", "webm_opus", "m4a_aac"])
def test_a_decoded_cough_passes(fmt: str) -> None:
    check_audio(decode_audio(af.sample_file(fmt, 1.0), RATE))


@pytest.mark.usefixtures("fresh_settings")
def test_limits_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIN_DURATION_S", "1.5")
    monkeypatch.setenv("SILENCE_DBFS", "-20")
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "100")
    settings.cache_clear()

    assert _refusal(_audio(af.tone(1.0, RATE))).message.endswith("at least 1.5 s is needed.")
    assert _refusal(_audio(af.tone(2.0, RATE, amplitude=0.05))).code == "silent_audio"
    with pytest.raises(InputError, match="at most 100 bytes"):
        check_upload_size(101)
