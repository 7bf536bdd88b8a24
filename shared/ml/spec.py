"""A model's feature spec: what it was trained on, declared with librosa's parameter names.

metadata.json's `features` object names every choice that changes the model's input, using
librosa's parameter names; whatever is left out takes librosa 0.11's default, so

    {"kind": "mfcc", "sample_rate": 22050, "n_mfcc": 40, "pooling": "mean"}

means exactly `np.mean(librosa.feature.mfcc(y=y, sr=22050, n_mfcc=40), axis=1)`. Defaults
follow `librosa.feature.melspectrogram` (n_fft 2048, hop_length 512, win_length n_fft,
window hann, center, pad_mode constant, power 2, n_mels 128, fmin 0, fmax sr/2, slaney
scale and norm), `librosa.feature.mfcc` (n_mfcc 20, dct_type 2, norm ortho) and
`librosa.power_to_db` (ref 1, amin 1e-10, top_db 80). Choices librosa has no default for
(`pooling`, `log_offset`, the window sizes of `windows`, the `frames` of `none`) must be
given. A field that does not apply to the choices made (n_mfcc for a log_mel, log_offset
with log db) and any unknown field or value are refused by name, so a typo cannot quietly
fall back to a default.

Metadata written before this format (`feature_spec` with 21 fields, MFCC windows only) is
read as the spec it always meant (`from_legacy`): registry versions are immutable, so the
versions already pushed keep serving.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

KINDS = ("mfcc", "log_mel", "mel")
WINDOWS = ("hann", "hamming", "blackman", "boxcar")
PAD_MODES = ("constant", "reflect")
MEL_SCALES = ("slaney", "htk")
MEL_NORMS = ("slaney", None)
DCT_TYPES = (1, 2, 3)
DCT_NORMS = ("ortho", None)
LOGS = ("db", "ln")
POOLINGS = ("mean", "mean_std", "windows", "none")
LAYOUTS = ("features_frames", "frames_features")
REF_MAX = "max"  # power_to_db(ref=np.max)

_REQUIRED = object()


@dataclass(frozen=True)
class FeatureSpec:
    """A resolved spec: every field that applies has its value; the others are None."""

    kind: str
    sample_rate: int
    n_fft: int
    hop_length: int
    win_length: int
    window: str
    center: bool
    pad_mode: str
    power: float
    n_mels: int
    fmin: float
    fmax: float
    mel_scale: str
    mel_norm: str | None
    n_mfcc: int | None = None
    dct_type: int | None = None
    dct_norm: str | None = None
    log: str | None = None
    ref: float | str | None = None
    amin: float | None = None
    top_db: float | None = None
    log_offset: float | None = None
    pooling: str = "mean"
    window_frames: int | None = None
    window_hop_frames: int | None = None
    frames: int | None = None
    layout: str | None = None
    normalize: tuple[tuple[float, ...], tuple[float, ...]] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """Parse a `features` object (or a pre-issue-18 `feature_spec`); ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("the feature spec is not an object")
        if "kind" not in data and set(data) == set(LEGACY_FIELDS):
            return from_legacy(data)
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ValueError(f"unknown fields {unknown} (known: {', '.join(_FIELDS)})")
        values: dict[str, Any] = {}
        for name, rule in _FIELDS.items():
            applies = rule.applies(values)
            if name in data and not applies:
                raise ValueError(f"{name} does not apply here ({rule.when})")
            if not applies:
                continue
            if name in data:
                values[name] = rule.parse(name, data[name])
            elif rule.default is _REQUIRED:
                raise ValueError(f"{name} is required ({rule.when or 'no librosa default'})")
            else:
                values[name] = rule.default(values) if callable(rule.default) else rule.default
        spec = cls(**values)
        spec._check()
        return spec

    def to_dict(self) -> dict[str, Any]:
        """Every field that applies, resolved (JSON-ready): what metadata and messages carry."""
        out: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            if name == "normalize":
                if value is not None:
                    out[name] = {"mean": list(value[0]), "std": list(value[1])}
            elif value is not None or (_FIELDS[name].nullable and _FIELDS[name].applies(out)):
                out[name] = value
        return out

    def differences(self, other: FeatureSpec) -> list[str]:
        """Names of the fields whose values differ, e.g. to explain a refused spec."""
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]

    @property
    def n_features(self) -> int:
        """Rows of the feature matrix: n_mfcc coefficients or n_mels bands."""
        return self.n_mfcc if self.n_mfcc is not None else self.n_mels

    def _check(self) -> None:
        problems = []
        if not 0 < self.win_length <= self.n_fft:
            problems.append(f"0 < win_length <= n_fft (win_length={self.win_length}, n_fft={self.n_fft})")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            problems.append(
                f"0 <= fmin < fmax <= sample_rate / 2 (fmin={self.fmin:g}, fmax={self.fmax:g}, "
                f"sample_rate={self.sample_rate})"
            )
        if self.n_mfcc is not None and not self.n_mfcc <= self.n_mels:
            problems.append(f"n_mfcc <= n_mels (n_mfcc={self.n_mfcc}, n_mels={self.n_mels})")
        if self.normalize is not None:
            width = self.n_features * (2 if self.pooling == "mean_std" else 1)
            lengths = [len(part) for part in self.normalize]
            if lengths != [width, width]:
                problems.append(f"normalize.mean and normalize.std of {width} values each (got {lengths})")
            if any(not s > 0 for s in self.normalize[1]):
                problems.append("normalize.std > 0")
        if problems:
            raise ValueError("the feature spec needs " + "; ".join(problems))


@dataclass(frozen=True)
class _Rule:
    parse: Callable[[str, Any], Any]
    default: Any = _REQUIRED  # a value, a function of the values so far, or _REQUIRED
    applies: Callable[[dict[str, Any]], bool] = lambda values: True
    when: str = ""  # when the field applies, for the error messages
    nullable: bool = False  # None is a meaningful value (top_db, mel_norm, dct_norm)


def _number(kind: type, low: float = -math.inf, strict: bool = True) -> Callable[[str, Any], Any]:
    """A parser for an int or float above `low` (`strict`) or at least `low`, refusing lossy values."""

    what = "an integer" if kind is int else "a number"

    def parse(name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name}={value!r} is not {what}")
        if kind is int and not float(value).is_integer():
            raise ValueError(f"{name}={value!r} is not {what}")
        if not math.isfinite(value) or (value <= low if strict else value < low):
            raise ValueError(f"{name}={value!r} must be {'>' if strict else '>='} {low:g}")
        return kind(value)

    return parse


def _choice(options: tuple[Any, ...]) -> Callable[[str, Any], Any]:
    def parse(name: str, value: Any) -> Any:
        # bool is an int: `True` must not pass for dct_type 1
        if isinstance(value, bool) or value not in options:
            shown = ", ".join("null" if o is None else repr(o) for o in options)
            raise ValueError(f"{name}={value!r} is not one of {shown}")
        return value

    return parse


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name}={value!r} is not true or false")
    return value


def _ref(name: str, value: Any) -> float | str:
    return REF_MAX if value == REF_MAX else _number(float, 0.0)(name, value)


def _top_db(name: str, value: Any) -> float | None:
    return None if value is None else _number(float, 0.0, strict=False)(name, value)


def _normalize(name: str, value: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    if not isinstance(value, dict) or set(value) != {"mean", "std"}:
        raise ValueError(f'{name} must be {{"mean": [...], "std": [...]}}')
    parts = []
    for part in ("mean", "std"):
        if not isinstance(value[part], list):
            raise ValueError(f"{name}.{part} is not a list")
        parts.append(tuple(_number(float)(f"{name}.{part}", v) for v in value[part]))
    return parts[0], parts[1]


def _is(field: str, *options: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda values: values.get(field) in options


_positive_int = _number(int, 0)
_FIELDS: dict[str, _Rule] = {
    "kind": _Rule(_choice(KINDS)),
    "sample_rate": _Rule(_positive_int, 22050),
    "n_fft": _Rule(_positive_int, 2048),
    "hop_length": _Rule(_positive_int, 512),
    "win_length": _Rule(_positive_int, lambda v: v["n_fft"]),
    "window": _Rule(_choice(WINDOWS), "hann"),
    "center": _Rule(_bool, True),
    "pad_mode": _Rule(_choice(PAD_MODES), "constant"),
    "power": _Rule(_number(float, 0.0), 2.0),
    "n_mels": _Rule(_positive_int, 128),
    "fmin": _Rule(_number(float, 0.0, strict=False), 0.0),
    "fmax": _Rule(_number(float, 0.0), lambda v: v["sample_rate"] / 2),
    "mel_scale": _Rule(_choice(MEL_SCALES), "slaney"),
    "mel_norm": _Rule(_choice(MEL_NORMS), "slaney", nullable=True),
    "n_mfcc": _Rule(_positive_int, 20, _is("kind", "mfcc"), "kind mfcc only"),
    "dct_type": _Rule(_choice(DCT_TYPES), 2, _is("kind", "mfcc"), "kind mfcc only"),
    "dct_norm": _Rule(_choice(DCT_NORMS), "ortho", _is("kind", "mfcc"), "kind mfcc only", nullable=True),
    "log": _Rule(_choice(LOGS), "db", _is("kind", "mfcc", "log_mel"), "kinds mfcc and log_mel only"),
    "ref": _Rule(_ref, 1.0, _is("log", "db"), "log db only"),
    "amin": _Rule(_number(float, 0.0), 1e-10, _is("log", "db"), "log db only"),
    "top_db": _Rule(_top_db, 80.0, _is("log", "db"), "log db only", nullable=True),
    "log_offset": _Rule(_number(float, 0.0), _REQUIRED, _is("log", "ln"), "log ln only"),
    "pooling": _Rule(_choice(POOLINGS)),
    "window_frames": _Rule(_positive_int, _REQUIRED, _is("pooling", "windows"), "pooling windows only"),
    "window_hop_frames": _Rule(_positive_int, _REQUIRED, _is("pooling", "windows"), "pooling windows only"),
    "frames": _Rule(_positive_int, _REQUIRED, _is("pooling", "none"), "pooling none only"),
    "layout": _Rule(
        _choice(LAYOUTS),
        "features_frames",
        _is("pooling", "windows", "none"),
        "pooling windows and none only",
    ),
    "normalize": _Rule(_normalize, None, nullable=False),
}

# The metadata form before issue 18: MFCC windows, every field given.
LEGACY_FIELDS = (
    "sample_rate",
    "n_mfcc",
    "n_fft",
    "hop_length",
    "win_length",
    "n_mels",
    "fmin",
    "fmax",
    "window",
    "center",
    "pad_mode",
    "power",
    "mel_scale",
    "mel_norm",
    "ref",
    "amin",
    "top_db",
    "dct_type",
    "dct_norm",
    "window_frames",
    "window_hop_frames",
)


def from_legacy(data: dict[str, Any]) -> FeatureSpec:
    """A pre-issue-18 `feature_spec`: log-dB MFCCs cut into windows, every field given."""
    return FeatureSpec.from_dict({**data, "kind": "mfcc", "log": "db", "pooling": "windows"})
