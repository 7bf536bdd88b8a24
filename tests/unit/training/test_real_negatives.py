"""training/: the real-sound sources, instrument banks, augmentation and the evaluation rules."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from training import augment as aug
from training.evaluate import THRESHOLDS, calibration, choose_threshold, label_at, real_metrics
from training.instruments import pat_samples, render_note, sf2_samples
from training.real_sounds import load_source
from training.sources import HELD_OUT, SMALL_SOURCES, SOURCES, TRAIN, installed
from training.synthetic import Clip

LABELS = ("dry", "wet", "not_cough")


def test_every_source_names_its_licence_and_the_held_out_ones_cover_each_kind() -> None:
    packages = [source.package for source in SOURCES]
    assert len(packages) == len(set(packages))
    assert all(source.licence and source.use in (TRAIN, HELD_OUT) for source in SOURCES)
    for kind in ("speech", "instrument", "effects"):
        assert {source.use for source in SOURCES if source.kind == kind} == {TRAIN, HELD_OUT}
    assert sorted(source.use for source in SMALL_SOURCES) == [HELD_OUT, TRAIN]


@pytest.mark.parametrize("source", SMALL_SOURCES, ids=lambda s: s.package)
def test_a_small_source_loads_as_seeded_not_cough_clips(source) -> None:
    assert installed(source.package), "scripts/setup.sh installs the small sources"
    clips = load_source(source, 16_000, seed=0)
    again = load_source(source, 16_000, seed=0)
    assert clips and all(c.label == "not_cough" and c.rate == 16_000 for c in clips)
    assert all(c.source.startswith(f"{source.package}:") for c in clips)
    assert all(0.1 * 16_000 <= c.samples.size <= 3 * 16_000 for c in clips)
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(clips, again, strict=True))


def _sf2(path: Path, pcm: np.ndarray, rate: int) -> Path:
    """A minimal SoundFont: one mono sample (looped over its second half) and the terminal record."""
    smpl = pcm.astype("<i2").tobytes()
    n = pcm.size
    shdr = struct.pack("<20s5IBbHH", b"Tone", 0, n, n // 2, n, rate, 60, 0, 0, 1)
    shdr += struct.pack("<20s5IBbHH", b"EOS", 0, 0, 0, 0, 0, 0, 0, 0, 0)

    def chunk(name: bytes, body: bytes) -> bytes:
        return name + struct.pack("<I", len(body)) + body

    body = (
        b"sfbk"
        + chunk(b"LIST", b"sdta" + chunk(b"smpl", smpl))
        + chunk(b"LIST", b"pdta" + chunk(b"shdr", shdr))
    )
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def _pat(path: Path, pcm: np.ndarray, rate: int) -> Path:
    """A minimal Gravis patch with one 16-bit signed looped sample."""
    header = b"GF1PATCH110\0ID#000002\0".ljust(129, b"\0")
    instrument = bytes(63)
    layer = bytearray(47)
    layer[6] = 1  # one sample
    data = pcm.astype("<i2").tobytes()
    sample = bytearray(96)
    sample[:7] = b"tone\0\0\0"
    struct.pack_into("<3IH", sample, 8, len(data), len(data) // 2, len(data), rate)
    sample[55] = 1 | 4  # 16-bit, looping
    path.write_bytes(header + instrument + bytes(layer) + bytes(sample) + data)
    return path


def test_instrument_banks_give_their_samples_and_notes_repeat_the_loop(tmp_path: Path) -> None:
    pcm = (np.sin(np.arange(2000) / 5) * 16_000).astype(np.int16)
    for samples in (
        sf2_samples(_sf2(tmp_path / "a.sf2", pcm, 22_050)),
        pat_samples(_pat(tmp_path / "a.pat", pcm, 22_050)),
    ):
        assert len(samples) == 1
        sample = samples[0]
        assert sample.rate == 22_050 and sample.loop == (1000, 2000)
        assert np.allclose(sample.pcm, pcm / 32768.0)
        note = render_note(sample, 0.5)
        assert note.size == int(0.5 * 22_050)
        assert np.array_equal(note[2000:2500], sample.pcm[1000:1500])  # the loop goes on
        assert note[-1] == 0.0  # released
    with pytest.raises(ValueError):
        sf2_samples(_pat(tmp_path / "b.pat", pcm, 22_050))


def test_background_is_mixed_at_the_asked_level_and_keeps_the_peak() -> None:
    rng = np.random.default_rng(0)
    signal = (np.sin(np.arange(16_000) / 3) * 0.5).astype(np.float32)
    noise = rng.standard_normal(4000).astype(np.float32)
    mixed = aug.mix_under(signal, noise, 20.0, rng)
    assert mixed.shape == signal.shape and np.isclose(np.max(np.abs(mixed)), 0.5, atol=1e-6)
    scale = np.dot(mixed, signal) / np.dot(signal, signal)  # the signal's share (noise is uncorrelated)
    residual = mixed - scale * signal
    snr = 20 * np.log10(np.sqrt(np.mean((scale * signal) ** 2)) / np.sqrt(np.mean(residual**2)))
    assert 18.0 < snr < 22.0


def test_telephone_band_removes_the_top() -> None:
    t = np.arange(16_000) / 16_000
    samples = (np.sin(2 * np.pi * 1000 * t) + np.sin(2 * np.pi * 6000 * t)).astype(np.float32)
    spectrum = np.abs(np.fft.rfft(aug.telephone_band(samples, 16_000, 3500.0)))
    assert spectrum[6000] < 1e-3 * spectrum[1000]


def test_augment_is_seeded_and_labels_stay() -> None:
    clips = [Clip(np.ones(1600, np.float32) * 0.1, 16_000, "dry", f"s{i}") for i in range(20)]
    backgrounds = [
        Clip(np.random.default_rng(1).standard_normal(800).astype(np.float32), 16_000, "not_cough", "b")
    ]
    once, again = aug.augment(clips, backgrounds, 5), aug.augment(clips, backgrounds, 5)
    assert [c.label for c in once] == ["dry"] * 20
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(once, again, strict=True))
    peaks = [float(np.max(np.abs(c.samples))) for c in once]
    assert all(10 ** (-24 / 20) - 1e-6 <= peak <= 1.0 + 1e-6 for peak in peaks) and len(set(peaks)) > 10
    noisy = sum(np.ptp(c.samples) > 1e-6 for c in once)  # constant unless a background or hiss was added
    assert 0 < noisy < 20


def test_serving_rule_and_threshold_choice_use_validation_figures_only() -> None:
    probabilities = np.array([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    assert label_at(probabilities, LABELS, 0.7) == ["dry", "inconclusive", "not_cough"]
    truth = ["dry"] * 40
    synthetic = np.tile([0.99, 0.005, 0.005], (40, 1))
    # Real validation non-coughs: one called dry at 0.62, one at 0.72: every threshold from 0.75 up
    # calls none a cough with synthetic accuracy at 100 %; of those, the default 0.8 is kept.
    real = np.array([[0.62, 0.2, 0.18], [0.72, 0.1, 0.18], [0.05, 0.05, 0.9]])
    chosen = choose_threshold(truth, synthetic, real, LABELS)
    assert chosen["chosen"] == 0.8
    # A non-cough called dry at 0.86 moves it up, to the nearest threshold that calls none.
    assert choose_threshold(truth, synthetic, np.vstack([real, [0.86, 0.1, 0.04]]), LABELS)["chosen"] == 0.9
    assert [row["threshold"] for row in chosen["validation"]] == list(THRESHOLDS)
    # When a high threshold costs synthetic accuracy, the goal wins over fewer false coughs.
    weak = np.tile([0.78, 0.11, 0.11], (40, 1))
    assert choose_threshold(truth, weak, real, LABELS)["chosen"] == 0.75
    assert choose_threshold(truth, np.tile([0.7, 0.2, 0.1], (40, 1)), real, LABELS)["chosen"] == 0.7
    # When no threshold reaches the goal, the goal is the best accuracy less the slack: the real
    # false coughs still decide (here 90 % everywhere, so the default 0.8, which calls none).
    hard = np.vstack([np.tile([0.99, 0.005, 0.005], (36, 1)), np.tile([0.1, 0.1, 0.8], (4, 1))])
    fallback = choose_threshold(truth, hard, real, LABELS)
    assert fallback["chosen"] == 0.8 and "best validation accuracy less" in fallback["how"]
    # ... and a threshold that loses more than the slack is not taken.
    slipping = np.vstack([hard[:34], np.tile([0.7, 0.2, 0.1], (2, 1)), hard[36:]])
    assert choose_threshold(truth, slipping, real, LABELS)["chosen"] == 0.7


def test_real_metrics_count_dry_and_wet_as_false_coughs_per_source() -> None:
    sources = ["a", "a", "a", "b"]
    metrics = real_metrics(
        sources, ["dry", "not_cough", "inconclusive", "wet"], {"a": "speech", "b": "effects"}
    )
    assert metrics["called_cough_rate"] == 0.5 and metrics["inconclusive_rate"] == 0.25
    assert metrics["by_source"]["a"] == {
        "kind": "speech",
        "clips": 3,
        "called_cough_rate": 0.3333,
        "inconclusive_rate": 0.3333,
    }
    assert metrics["by_source"]["b"]["called_cough_rate"] == 1.0


def test_calibration_error_is_zero_when_confidence_matches_accuracy_and_large_when_not() -> None:
    # 10 clips at confidence 0.8, 8 of them right: perfectly calibrated.
    probabilities = np.tile([0.8, 0.1, 0.1], (10, 1))
    truth = ["dry"] * 8 + ["wet"] * 2
    assert calibration(truth, probabilities, LABELS)["ece"] == 0.0
    # Always 0.99 sure, right half the time: ECE 0.49.
    sure = np.tile([0.99, 0.005, 0.005], (10, 1))
    result = calibration(["dry"] * 5 + ["wet"] * 5, sure, LABELS)
    assert result["ece"] == pytest.approx(0.49, abs=1e-3)
    assert result["bins"] == [
        {"lower": 0.9333, "upper": 1.0, "clips": 10, "confidence": 0.99, "accuracy": 0.5}
    ]
