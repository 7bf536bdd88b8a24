"""A broad, domain-randomized family of cough recipes: what training/synthetic.py drew as one
caricature per class, drawn here from wide ranges, so a cough made another way looks like
one more member of the family.

SYNTHETIC, NOT RECORDED. Each recipe is a plain acoustic description with every parameter
drawn from a wide, physically plausible range:

- source–filter cough: the three phases of a cough (a 15–80 ms explosive burst, a 60–400 ms
  intermediate phase of turbulent airflow, a voiced phase of 0–300 ms, present in about
  half), each made of turbulent noise (spectral tilt −9 to +3 dB per octave) and, for
  the voiced phase, glottal pulses (80–400 Hz, jitter), filtered by 2–5 randomized formants
  (250–4800 Hz, bandwidths log-uniform over 30–1200 Hz, from sharp to broad) that differ per phase;
- burst cough: one burst of noise shaped by 1–4 broad resonances, with an onset of
  0.5–40 ms and a decay that is exponential, power-law or linear (time constant 20–250 ms);
- training/synthetic.py's own dry and wet bursts, as one member among the others.

1–4 coughs per clip, 0.05–0.8 s apart. Dry and wet are defined by what tells them apart
acoustically, each randomized: a wet cough is longer (its phases drawn from longer
ranges), carries more low-frequency energy (a low shelf of +4 to +16 dB below 300–900 Hz),
and has irregular crackles (1–12 ms damped transients at random times, 8–80 per second)
and bubbling (an irregular 4–40 Hz amplitude flutter and short low tones of 150–1200 Hz);
a dry cough is shorter, has its energy higher (a low cut instead), a cleaner decay, and
at most a few faint crackles (so a crackle alone does not decide).

Not-a-cough clips are sounds with a cough's outline (training/look_alikes.py: knocks, clicks,
whooshes, laughter; LOOK_ALIKE_SHARE of the synthetic ones) and training/synthetic.py's
(speech-like vowels, tones, music-like notes, coloured noise), plus real recordings
(training/sources.py). Every clip of every class,
real ones included, then goes through a randomized recording chain (`room_and_microphone`
before training/augment.py's backgrounds and levels, `codec` after them): a room (an
impulse response of decaying noise, RT60 0.1–0.9 s, direct-to-reverberant ratio −2 to
+18 dB), a microphone (high-pass 40–300 Hz, an optional low-pass 3.4–8 kHz, a presence
bump, soft clipping), mains hum, and a lossy codec (Opus, AAC or MP3 at 16–96 kbit/s at
a sample rate of 16–48 kHz, encoded and decoded by the pinned PyAV, decoded as serving
decodes an upload).

Everything is seeded: `generate(n_per_class, seed)` returns the same clips every time.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace

import av
import numpy as np
from scipy.signal import butter, fftconvolve, lfilter

from shared.ml.audio import decode_audio
from training import look_alikes, synthetic
from training.synthetic import LABELS, RATE, Clip

DESCRIPTION = (
    "Synthetic clips from training/recipes.py (seeded), a domain-randomized family of cough "
    "recipes: source-filter coughs (three phases, turbulent noise and glottal pulses through "
    "randomized formants), burst coughs with randomized onsets, decays and resonances, and "
    "training/synthetic.py's bursts; 1-4 coughs per clip; wet coughs longer, with more "
    "low-frequency energy, crackles and bubbling, dry ones shorter and higher. Not-a-cough: "
    "training/look_alikes.py's knocks, clicks, whooshes and laughter, and training/synthetic.py's "
    "speech-like vowels, tones, music-like notes and coloured noise. "
    "Every clip (real ones too) through a randomized room, microphone, hum and lossy codec."
)
# The share of synthetic not-a-cough clips that have a cough's outline (training/look_alikes.py).
LOOK_ALIKE_SHARE = 0.6
# The rough odds of each part of the recording chain.
ROOM_SHARE = 0.6
MICROPHONE_SHARE = 0.7
HUM_SHARE = 0.2
CODEC_SHARE = 0.35
CODECS = (("ogg", "libopus", 48_000), ("adts", "aac", None), ("mp3", "libmp3lame", None))
CODEC_RATES = (16_000, 22_050, 24_000, 32_000, 44_100, 48_000)
BITRATES = (16_000, 24_000, 32_000, 48_000, 64_000, 96_000)


def _noise(rng: np.random.Generator, n: int, tilt_db_per_octave: float) -> np.ndarray:
    """Unit-RMS noise whose spectrum falls (or rises) `tilt_db_per_octave` per octave."""
    freqs = np.maximum(np.fft.rfftfreq(n, 1.0 / RATE), 50.0)
    spectrum = np.fft.rfft(rng.standard_normal(n)) * (freqs / 1000.0) ** (tilt_db_per_octave / 6.02)
    noise = np.fft.irfft(spectrum, n)
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def _formants(x: np.ndarray, rng: np.random.Generator, wet: bool) -> np.ndarray:
    """`x` through 2–5 two-pole resonators in parallel, random centres, bandwidths and gains."""
    out = np.zeros_like(x)
    top = 3200.0 if wet else 4800.0
    for _ in range(int(rng.integers(2, 6))):
        centre, bandwidth = rng.uniform(250, top), np.exp(rng.uniform(np.log(30), np.log(1200)))
        r = np.exp(-np.pi * bandwidth / RATE)
        a = [1.0, -2 * r * np.cos(2 * np.pi * centre / RATE), r * r]
        out += rng.uniform(0.3, 1.0) * lfilter([1 - r], a, x)
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


def _glottal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A pulse train with a gliding pitch (80–400 Hz) and jitter, its pulses smoothed."""
    f0 = rng.uniform(80, 400) * np.linspace(1.0, rng.uniform(0.7, 1.2), n)
    f0 *= 1 + rng.uniform(0, 0.06) * rng.standard_normal(n).cumsum() / np.sqrt(np.arange(1, n + 1))
    phase = np.cumsum(f0) / RATE
    pulses = np.diff(np.floor(phase), prepend=0.0)
    smoothing = rng.uniform(0.5, 0.97)
    return lfilter([1.0], [1.0, -smoothing], pulses) - np.mean(pulses)


def _decay(rng: np.random.Generator, n: int, attack_s: float, tau_s: float) -> np.ndarray:
    t = np.arange(n) / RATE
    attack = np.clip(t / attack_s, 0.0, 1.0) ** rng.uniform(0.5, 2.0)
    after = np.maximum(t - attack_s, 0.0)
    kind = rng.integers(3)
    if kind == 0:
        fall = np.exp(-after / tau_s)
    elif kind == 1:
        fall = (1 + after / tau_s) ** -rng.uniform(1.5, 4.0)
    else:
        fall = np.clip(1 - after / (3 * tau_s), 0.0, 1.0)
    return attack * fall


def _crackles(rng: np.random.Generator, n: int, per_second: float) -> np.ndarray:
    """Damped transients (1–12 ms, ringing at 100–2500 Hz) at random (Poisson) times."""
    out = np.zeros(n)
    for start in rng.integers(0, n, rng.poisson(per_second * n / RATE)):
        length = min(n - start, int(RATE * rng.uniform(0.001, 0.012)))
        t = np.arange(length) / RATE
        ring = np.cos(2 * np.pi * rng.uniform(100, 2500) * t + rng.uniform(0, 6.3))
        out[start : start + length] += rng.uniform(0.2, 1.0) * ring * np.exp(-t / (t[-1] / 3 + 1e-4))
    return out


def _bubbling(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """An irregular 4–40 Hz amplitude flutter, and short low tones (150–1200 Hz) scattered in."""
    t = np.arange(n) / RATE
    rate_hz = rng.uniform(4, 40) * (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t))
    flutter = 1 - rng.uniform(0.2, 0.8) * (0.5 + 0.5 * np.sin(2 * np.pi * np.cumsum(rate_hz) / RATE))
    tones = np.zeros(n)
    for start in rng.integers(0, n, int(rng.integers(0, 12))):
        length = min(n - start, int(RATE * rng.uniform(0.01, 0.06)))
        tt = np.arange(length) / RATE
        freq = rng.uniform(150, 1200) * (1 + rng.uniform(-0.3, 0.3) * tt / (tt[-1] + 1e-4))
        tones[start : start + length] += np.sin(2 * np.pi * np.cumsum(freq) / RATE) * np.hanning(length)
    return flutter, tones


def _shelf(x: np.ndarray, rng: np.random.Generator, wet: bool) -> np.ndarray:
    """Wet: more energy below 300–900 Hz (+4 to +16 dB); dry: less below 200–700 Hz."""
    if wet:
        low = lfilter(*butter(2, rng.uniform(300, 900), fs=RATE), x)
        return x + (10 ** (rng.uniform(4, 16) / 20) - 1) * low
    return lfilter(*butter(1, rng.uniform(200, 700), "highpass", fs=RATE), x) * rng.uniform(0.6, 1) + x * 0.2


def _texture(x: np.ndarray, rng: np.random.Generator, wet: bool) -> np.ndarray:
    """Wet: crackles and bubbling over the cough; dry: at most a few faint crackles."""
    peak = np.max(np.abs(x)) + 1e-12
    envelope = np.abs(x) / peak
    smooth = np.convolve(envelope, np.ones(160) / 160, mode="same")
    if wet:
        flutter, tones = _bubbling(rng, x.size)
        crackles = _crackles(rng, x.size, rng.uniform(8, 80))
        gain = rng.uniform(0.2, 0.9)
        return x * flutter + peak * smooth * (gain * crackles + rng.uniform(0.0, 0.6) * tones)
    if rng.random() < 0.3:
        return x + peak * smooth * rng.uniform(0.05, 0.25) * _crackles(rng, x.size, rng.uniform(1, 8))
    return x


def source_filter_cough(rng: np.random.Generator, wet: bool) -> np.ndarray:
    """Explosive, intermediate and (sometimes) voiced phases, each a source through formants."""
    explosive_s = rng.uniform(0.02, 0.08) if wet else rng.uniform(0.015, 0.05)
    intermediate_s = rng.uniform(0.15, 0.4) if wet else rng.uniform(0.06, 0.22)
    voiced_s = rng.uniform(0.03, 0.3) if rng.random() < 0.5 else 0.0
    tilt = rng.uniform(-9, 0) if wet else rng.uniform(-5, 3)
    phases = []
    n = int(RATE * explosive_s)
    phases.append(
        _formants(_noise(rng, n, tilt), rng, wet) * _decay(rng, n, rng.uniform(0.0005, 0.008), n / RATE)
    )
    n = int(RATE * intermediate_s)
    level = rng.uniform(0.2, 0.7)
    phases.append(
        level
        * _formants(_noise(rng, n, tilt), rng, wet)
        * _decay(rng, n, 0.002, intermediate_s * rng.uniform(0.3, 1))
    )
    if voiced_s:
        n = int(RATE * voiced_s)
        voice = _glottal(rng, n)
        voice = _formants(voice + rng.uniform(0, 0.5) * _noise(rng, n, tilt) * np.std(voice), rng, wet)
        phases.append(level * rng.uniform(0.3, 1.0) * voice * _decay(rng, n, 0.01, voiced_s / 2))
    cough = np.concatenate(phases)
    # Overlapping edges: each phase rings into the next rather than stopping dead.
    cough = lfilter([1.0], [1.0, -rng.uniform(0.0, 0.6)], cough)
    return _texture(_shelf(cough, rng, wet), rng, wet)


def burst_cough(rng: np.random.Generator, wet: bool) -> np.ndarray:
    """One noise burst shaped by broad resonances, its onset and decay drawn widely."""
    seconds = rng.uniform(0.25, 0.75) if wet else rng.uniform(0.1, 0.35)
    n = int(RATE * seconds)
    tau = rng.uniform(0.06, 0.25) if wet else rng.uniform(0.02, 0.09)
    tilt = rng.uniform(-9, 0) if wet else rng.uniform(-5, 3)
    body = _formants(_noise(rng, n, tilt), rng, wet) * 0.7 + 0.3 * _noise(rng, n, tilt)
    return _texture(_shelf(body * _decay(rng, n, rng.uniform(0.0005, 0.04), tau), rng, wet), rng, wet)


def legacy_burst(rng: np.random.Generator, wet: bool) -> np.ndarray:
    """training/synthetic.py's bursts, one member of the family."""
    return synthetic._wet_burst(rng) if wet else synthetic._dry_burst(rng)


RECIPES: tuple[Callable[[np.random.Generator, bool], np.ndarray], ...] = (
    source_filter_cough,
    burst_cough,
    legacy_burst,
)
RECIPE_ODDS = (0.5, 0.35, 0.15)


def cough_clip(rng: np.random.Generator, wet: bool) -> np.ndarray:
    """1–4 coughs of one recipe, 0.05–0.8 s apart, with a little silence around them."""
    recipe = RECIPES[int(rng.choice(len(RECIPES), p=RECIPE_ODDS))]
    parts = [np.zeros(int(RATE * rng.uniform(0.02, 0.4)))]
    for i in range(int(rng.integers(1, 5))):
        if i:
            parts.append(np.zeros(int(RATE * rng.uniform(0.05, 0.8))))
        cough = recipe(rng, wet)
        parts.append(cough / (np.max(np.abs(cough)) + 1e-12) * rng.uniform(0.5, 1.0))
    parts.append(np.zeros(int(RATE * rng.uniform(0.02, 0.4))))
    clip = np.concatenate(parts)
    return (clip / (np.max(np.abs(clip)) + 1e-12)).astype(np.float32)


def make_clip(label: str, rng: np.random.Generator) -> np.ndarray:
    """One clip of `label`, float32 mono at 16 kHz, peak 1 (before the recording chain)."""
    if label in ("dry", "wet"):
        return cough_clip(rng, label == "wet")
    if label == "not_cough":
        return (
            look_alikes.make_clip(rng) if rng.random() < LOOK_ALIKE_SHARE else synthetic.make_clip(label, rng)
        )
    raise ValueError(f"unknown label {label!r}; expected one of {LABELS}")


def generate(n_per_class: int, seed: int) -> list[Clip]:
    """`n_per_class` clips of each label, interleaved, the same for the same seed."""
    rng = np.random.default_rng([seed, 19])
    return [
        Clip(make_clip(label, rng), RATE, label, f"recipes:{seed}:{i}:{label}")
        for i in range(n_per_class)
        for label in LABELS
    ]


def _room(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """`x` in a room: an impulse response of exponentially decaying noise plus the direct sound."""
    rt60 = rng.uniform(0.1, 0.9)
    n = int(RATE * rt60)
    t = np.arange(n) / RATE
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    tail = lfilter(*butter(1, rng.uniform(2000, 7000), fs=RATE), tail)  # walls absorb the highs
    drr_db = rng.uniform(-2, 18)
    tail *= 10 ** (-drr_db / 20) / (np.sqrt(np.sum(tail**2)) + 1e-12)
    tail[0] += 1.0
    return fftconvolve(x, tail)[: x.size]


def _microphone(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """High-pass, maybe a low-pass, a presence bump, maybe soft clipping."""
    x = lfilter(*butter(int(rng.integers(1, 3)), rng.uniform(40, 300), "highpass", fs=RATE), x)
    if rng.random() < 0.5:
        x = lfilter(*butter(int(rng.integers(2, 5)), rng.uniform(3400, 7900), fs=RATE), x)
    centre, r = rng.uniform(1500, 6000), np.exp(-np.pi * rng.uniform(500, 2500) / RATE)
    bump = lfilter([1 - r], [1.0, -2 * r * np.cos(2 * np.pi * centre / RATE), r * r], x)
    x = x + rng.uniform(0, 1.5) * bump
    if rng.random() < 0.2:
        drive = rng.uniform(1.5, 6)
        x = np.tanh(drive * x / (np.max(np.abs(x)) + 1e-12)) / np.tanh(drive)
    return x


def _hum(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / RATE
    mains = rng.choice([50.0, 60.0])
    weights = rng.uniform(0, 1, 6)
    return sum(
        w * np.sin(2 * np.pi * mains * (h + 1) * t + rng.uniform(0, 6.3)) for h, w in enumerate(weights)
    )


def room_and_microphone(clips: list[Clip], seed: int) -> list[Clip]:
    """Each clip, with the odds above, in a room, through a microphone, with mains hum (seeded)."""
    rng = np.random.default_rng([seed, 23])
    out = []
    for clip in clips:
        x = clip.samples.astype(np.float64)
        peak = np.max(np.abs(x)) + 1e-12
        if rng.random() < ROOM_SHARE:
            x = _room(x, rng)
        if rng.random() < MICROPHONE_SHARE:
            x = _microphone(x, rng)
        if rng.random() < HUM_SHARE:
            hum = _hum(x.size, rng)
            x = x + hum / (np.max(np.abs(hum)) + 1e-12) * np.max(np.abs(x)) * 10 ** (
                -rng.uniform(20, 45) / 20
            )
        x = x / (np.max(np.abs(x)) + 1e-12) * peak
        out.append(replace(clip, samples=x.astype(np.float32)))
    return out


def encode(
    samples: np.ndarray, rate: int, codec: tuple[str, str, int | None], source_rate: int, bitrate: int
) -> bytes:
    """`samples` (mono float32 at `source_rate`) as a lossy file (PyAV resamples for the encoder)."""
    muxer, encoder, fixed_rate = codec
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=muxer) as container:
        stream = container.add_stream(encoder, rate=fixed_rate or rate)
        stream.bit_rate = bitrate
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples[None, :].astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = source_rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buffer.getvalue()


def codec(clips: list[Clip], seed: int) -> list[Clip]:
    """Each clip, with CODEC_SHARE odds, through a lossy codec at a random rate and bitrate,
    decoded back to 16 kHz by the serving decoder (so training hears what predict would)."""
    rng = np.random.default_rng([seed, 29])
    out = []
    for clip in clips:
        if rng.random() >= CODEC_SHARE:
            out.append(clip)
            continue
        chosen = CODECS[int(rng.integers(len(CODECS)))]
        rate = int(rng.choice(CODEC_RATES))
        data = encode(clip.samples, rate, chosen, clip.rate, int(rng.choice(BITRATES)))
        decoded = decode_audio(data, clip.rate).samples[: clip.samples.size]
        out.append(replace(clip, samples=decoded.astype(np.float32)))
    return out
