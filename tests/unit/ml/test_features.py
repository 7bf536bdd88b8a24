"""shared.ml.features: numpy MFCC against librosa, the spec's round trip, the model-window rule."""

from __future__ import annotations

import dataclasses
import json

import librosa
import numpy as np
import pytest

from shared.ml.features import FeatureSpec, feature_windows, mel_filterbank, mfcc, n_frames

SPEC = FeatureSpec()
RATE = SPEC.sample_rate


def _reference(samples: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    mel = librosa.feature.melspectrogram(
        y=samples,
        sr=spec.sample_rate,
        n_fft=spec.n_fft,
        hop_length=spec.hop_length,
        win_length=spec.win_length,
        window=spec.window,
        center=spec.center,
        pad_mode=spec.pad_mode,
        power=spec.power,
        n_mels=spec.n_mels,
        fmin=spec.fmin,
        fmax=spec.fmax,
    )
    log_mel = librosa.power_to_db(mel, ref=spec.ref, amin=spec.amin, top_db=spec.top_db)
    return librosa.feature.mfcc(S=log_mel, n_mfcc=spec.n_mfcc, dct_type=spec.dct_type, norm=spec.dct_norm)


def _clips() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    t = np.arange(3 * RATE) / RATE
    burst = rng.standard_normal(RATE // 2) * np.exp(-np.arange(RATE // 2) / 1200)
    return {
        "tone_440": 0.5 * np.sin(2 * np.pi * 440 * t[: 2 * RATE]),
        "tone_7900": 0.3 * np.sin(2 * np.pi * 7900 * t[:RATE]),
        "white_noise": 0.1 * rng.standard_normal(3 * RATE),
        "chirp": librosa.chirp(fmin=60, fmax=7800, sr=RATE, duration=1.7),
        "cough_burst": np.concatenate([np.zeros(800), burst, np.zeros(3000)]),
        "quiet_noise": 1e-5 * rng.standard_normal(RATE),
        "clipped_square": np.sign(np.sin(2 * np.pi * 150 * t[:RATE])),
        "digital_silence": np.zeros(RATE // 4),
        "shorter_than_n_fft": rng.standard_normal(SPEC.n_fft - 100),
        "one_hop": rng.standard_normal(SPEC.hop_length),
        "odd_length": rng.standard_normal(12_345),
    }


@pytest.mark.filterwarnings("ignore:n_fft=.*is too large")
@pytest.mark.parametrize("name", list(_clips()))
def test_mfcc_matches_librosa(name: str) -> None:
    samples = _clips()[name].astype(np.float32)
    ours = mfcc(samples, SPEC)
    theirs = _reference(samples, SPEC)
    assert ours.dtype == np.float32
    assert ours.shape == theirs.shape == (SPEC.n_mfcc, n_frames(samples.size, SPEC))
    assert np.max(np.abs(ours - theirs)) <= 1e-3


@pytest.mark.parametrize(
    "changes",
    [
        {"n_mfcc": 13, "n_mels": 40, "fmax": 7600.0},
        {"n_fft": 1024, "win_length": 1024, "hop_length": 256, "fmin": 0.0},
        {"sample_rate": 22050, "fmax": 11025.0, "n_fft": 2048, "win_length": 2048, "hop_length": 512},
        {"top_db": 40.0, "amin": 1e-6},
    ],
)
def test_mfcc_matches_librosa_for_other_specs(changes: dict) -> None:
    spec = dataclasses.replace(SPEC, **changes)
    samples = np.random.default_rng(3).standard_normal(spec.sample_rate).astype(np.float32) * 0.2
    samples[: spec.sample_rate // 3] *= np.linspace(0, 1, spec.sample_rate // 3, dtype=np.float32)
    assert np.max(np.abs(mfcc(samples, spec) - _reference(samples, spec))) <= 1e-3


def test_mel_filterbank_equals_librosa() -> None:
    ours = mel_filterbank(SPEC)
    theirs = librosa.filters.mel(
        sr=SPEC.sample_rate, n_fft=SPEC.n_fft, n_mels=SPEC.n_mels, fmin=SPEC.fmin, fmax=SPEC.fmax
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-8)


def test_mfcc_refuses_empty_or_multichannel_input() -> None:
    with pytest.raises(ValueError):
        mfcc(np.zeros(0, dtype=np.float32), SPEC)
    with pytest.raises(ValueError):
        mfcc(np.zeros((100, 2), dtype=np.float32), SPEC)


def test_spec_round_trips_through_json_exactly() -> None:
    spec = dataclasses.replace(SPEC, n_mfcc=13, fmin=0.0)
    again = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.to_dict() == spec.to_dict()
    assert FeatureSpec.from_dict({**spec.to_dict(), "fmin": 0}).fmin == 0.0


def test_spec_from_dict_rejects_unknown_missing_and_mistyped_fields() -> None:
    data = SPEC.to_dict()
    with pytest.raises(ValueError, match="unknown fields \\['extra'\\]"):
        FeatureSpec.from_dict({**data, "extra": 1})
    with pytest.raises(ValueError, match="missing fields \\['n_mfcc'\\]"):
        FeatureSpec.from_dict({k: v for k, v in data.items() if k != "n_mfcc"})
    with pytest.raises(ValueError):
        FeatureSpec.from_dict({**data, "n_mfcc": "many"})
    for field, bad in (("center", "yes"), ("n_mfcc", 20.5), ("n_mfcc", True), ("fmin", "20"), ("window", 1)):
        with pytest.raises(ValueError, match=field):
            FeatureSpec.from_dict({**data, field: bad})


def test_spec_refuses_what_mfcc_does_not_implement() -> None:
    with pytest.raises(ValueError, match="window"):
        dataclasses.replace(SPEC, window="hamming")
    with pytest.raises(ValueError, match="fmax"):
        dataclasses.replace(SPEC, fmax=9000.0)


def test_differences_names_the_fields() -> None:
    other = dataclasses.replace(SPEC, n_mfcc=13, hop_length=256)
    assert SPEC.differences(other) == ["n_mfcc", "hop_length"]
    assert SPEC.differences(FeatureSpec()) == []


def test_short_clip_is_wrapped_to_one_window() -> None:
    features = np.arange(SPEC.n_mfcc * 30, dtype=np.float32).reshape(SPEC.n_mfcc, 30)
    windows = feature_windows(features, SPEC)
    assert windows.shape == (1, SPEC.n_mfcc, SPEC.window_frames)
    np.testing.assert_array_equal(windows[0, :, 30:60], features)


def test_long_clip_windows_cover_every_frame_and_end_at_the_clip_end() -> None:
    frames = SPEC.window_frames * 3 + 17
    features = np.random.default_rng(0).standard_normal((SPEC.n_mfcc, frames)).astype(np.float32)
    windows = feature_windows(features, SPEC)
    starts = [*range(0, frames - SPEC.window_frames + 1, SPEC.window_hop_frames), frames - SPEC.window_frames]
    assert windows.shape == (len(starts), SPEC.n_mfcc, SPEC.window_frames)
    np.testing.assert_array_equal(windows[-1], features[:, -SPEC.window_frames :])
    np.testing.assert_array_equal(
        windows[1], features[:, SPEC.window_hop_frames : SPEC.window_hop_frames * 3]
    )


def test_exactly_one_window_is_not_padded() -> None:
    features = np.ones((SPEC.n_mfcc, SPEC.window_frames), dtype=np.float32)
    assert feature_windows(features, SPEC).shape == (1, SPEC.n_mfcc, SPEC.window_frames)
