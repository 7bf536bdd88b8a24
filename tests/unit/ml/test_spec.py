"""shared.ml.spec: parsing a `features` object, its defaults, its refusals, the old form."""

from __future__ import annotations

import json

import pytest

from shared.ml.spec import LEGACY_FIELDS, FeatureSpec, from_legacy
from training.dataset import FEATURES

MEAN = {"kind": "mfcc", "sample_rate": 22050, "n_mfcc": 40, "pooling": "mean"}


def test_a_spec_round_trips_through_json_exactly() -> None:
    for data in (
        MEAN,
        {**MEAN, "top_db": None, "ref": "max", "normalize": {"mean": [0.0] * 40, "std": [1.0] * 40}},
        {
            "kind": "log_mel",
            "log": "ln",
            "log_offset": 1e-6,
            "pooling": "none",
            "frames": 101,
            "mel_norm": None,
        },
        {
            "kind": "mel",
            "pooling": "windows",
            "window_frames": 10,
            "window_hop_frames": 5,
            "layout": "frames_features",
        },
    ):
        spec = FeatureSpec.from_dict(data)
        again = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
        assert again == spec and again.to_dict() == spec.to_dict()
        assert {k: v for k, v in spec.to_dict().items() if k in data} == data


def test_nulls_that_mean_something_are_kept() -> None:
    resolved = FeatureSpec.from_dict({**MEAN, "top_db": None, "mel_norm": None, "dct_norm": None}).to_dict()
    assert resolved["top_db"] is None and resolved["mel_norm"] is None and resolved["dct_norm"] is None


def test_integral_floats_are_ints_and_ints_floats() -> None:
    spec = FeatureSpec.from_dict({**MEAN, "n_fft": 1024.0, "fmin": 0})
    assert spec.n_fft == 1024 and isinstance(spec.n_fft, int) and isinstance(spec.fmin, float)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**MEAN, "n_mfccs": 40}, r"unknown fields \['n_mfccs'\]"),
        ({**MEAN, "kind": "cqt"}, r"kind='cqt' is not one of 'mfcc', 'log_mel', 'mel'"),
        ({**MEAN, "pad_mode": "edge"}, r"pad_mode='edge' is not one of 'constant', 'reflect'"),
        ({**MEAN, "mel_norm": 1.0}, r"mel_norm=1.0 is not one of 'slaney', null"),
        ({**MEAN, "pooling": "max"}, r"pooling='max' is not one of"),
        ({**MEAN, "dct_type": True}, r"dct_type=True is not one of"),
        ({**MEAN, "window": "kaiser"}, r"window='kaiser' is not one of"),
        ({**MEAN, "n_mfcc": 20.5}, r"n_mfcc=20.5 is not an integer"),
        ({**MEAN, "n_mfcc": True}, r"n_mfcc=True is not an integer"),
        ({**MEAN, "fmin": "20"}, r"fmin='20' is not a number"),
        ({**MEAN, "center": "yes"}, r"center='yes' is not true or false"),
        ({**MEAN, "hop_length": 0}, r"hop_length=0 must be > 0"),
        ({**MEAN, "amin": 0}, r"amin=0 must be > 0"),
        ({**MEAN, "ref": "min"}, r"ref='min' is not a number"),
        ({k: v for k, v in MEAN.items() if k != "kind"}, r"kind is required"),
        ({k: v for k, v in MEAN.items() if k != "pooling"}, r"pooling is required"),
        ({**MEAN, "pooling": "windows"}, r"window_frames is required \(pooling windows only\)"),
        ({**MEAN, "pooling": "none"}, r"frames is required"),
        ({**MEAN, "log": "ln"}, r"log_offset is required"),
        ({**MEAN, "kind": "log_mel"}, r"n_mfcc does not apply here \(kind mfcc only\)"),
        ({**MEAN, "kind": "mel", "n_mfcc": None}, r"n_mfcc does not apply"),
        ({"kind": "mel", "pooling": "mean", "top_db": 80}, r"top_db does not apply here \(log db only\)"),
        ({**MEAN, "log_offset": 1e-6}, r"log_offset does not apply here \(log ln only\)"),
        ({**MEAN, "frames": 100}, r"frames does not apply here \(pooling none only\)"),
        ({**MEAN, "layout": "frames_features"}, r"layout does not apply here"),
        ({**MEAN, "win_length": 4096}, r"0 < win_length <= n_fft"),
        ({**MEAN, "fmax": 16000.0}, r"fmax <= sample_rate / 2 \(fmin=0, fmax=16000"),
        ({**MEAN, "n_mels": 32}, r"n_mfcc <= n_mels"),
        ({**MEAN, "normalize": {"mean": [0.0] * 40}}, r'normalize must be \{"mean"'),
        ({**MEAN, "normalize": {"mean": [0.0] * 3, "std": [1.0] * 3}}, r"40 values each \(got \[3, 3\]\)"),
        ({**MEAN, "normalize": {"mean": [0.0] * 40, "std": [0.0] * 40}}, r"normalize.std > 0"),
        ("mfcc please", r"not an object"),
    ],
)
def test_bad_specs_are_refused_by_name(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FeatureSpec.from_dict(data)  # type: ignore[arg-type]


def test_mean_std_normalize_covers_both_halves() -> None:
    spec = FeatureSpec.from_dict(
        {**MEAN, "pooling": "mean_std", "normalize": {"mean": [0.0] * 80, "std": [1.0] * 80}}
    )
    assert len(spec.normalize[0]) == 80


def test_the_old_feature_spec_form_reads_as_mfcc_windows() -> None:
    old = {
        "sample_rate": 16000, "n_mfcc": 20, "n_fft": 512, "hop_length": 160, "win_length": 400, "n_mels": 64,
        "fmin": 20.0, "fmax": 8000.0, "window": "hann", "center": True, "pad_mode": "constant", "power": 2.0,
        "mel_scale": "slaney", "mel_norm": "slaney", "ref": 1.0, "amin": 1e-10, "top_db": 80.0, "dct_type": 2,
        "dct_norm": "ortho", "window_frames": 100, "window_hop_frames": 50,
    }  # fmt: skip
    assert set(old) == set(LEGACY_FIELDS)
    assert FeatureSpec.from_dict(old) == from_legacy(old) == FEATURES
    assert FEATURES.to_dict()["pooling"] == "windows" and FEATURES.layout == "features_frames"
    with pytest.raises(ValueError, match="window='x' is not one of"):
        FeatureSpec.from_dict({**old, "window": "x"})


def test_differences_name_the_fields() -> None:
    spec = FeatureSpec.from_dict(MEAN)
    other = FeatureSpec.from_dict({**MEAN, "n_mfcc": 13, "hop_length": 256})
    assert spec.differences(other) == ["hop_length", "n_mfcc"]
    assert spec.differences(FeatureSpec.from_dict(MEAN)) == []
