"""Held-out cough recipe 1: an airflow model of the cough's phases through a vocal-tract tube.

HELD OUT. Nothing that trains, tunes or chooses a threshold imports this module; it is
measured once per released model by `training/evaluate.py`. It shares no code with the
training recipes (training/synthetic.py, training/recipes.py) on purpose.

A cough, as the physiology describes it, driven by a pressure and a valve:

- compressive phase: the glottis is shut while the expiratory muscles build subglottal
  pressure (0.5–2.5 kPa here), silence;
- expulsive phase: the glottis snaps open (over 2–20 ms) and the pressure falls back
  exponentially as the lungs empty; the volume velocity through the opening follows
  Bernoulli, U = A·sqrt(2P/ρ), and the turbulence it makes is white noise, present above a
  critical Reynolds number, whose amplitude grows as the flow cubed (a dipole source);
- voiced phase (some coughs): the folds come back together and vibrate for a while,
  a Rosenberg glottal pulse train with jitter and shimmer.

The sources are filtered by a lossy-walled tube of 16 sections (17–19 cm, random area
function) computed as a chain of transmission-line matrices in the frequency domain,
radiated from the lips (a first difference).

Wet coughs carry secretions: bubbles bursting in the airway mucus ring at their Minnaert
frequency (radius 0.5–4 mm) as damped sinusoids, airway reopening crackles are sharp
deflections followed by a damped oscillation, the liquid layer damps the high band, and
the expulsion lasts longer. Dry coughs have none of these, a quicker pressure fall and a
narrower (higher, hissier) glottal constriction.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

AIR_DENSITY = 1.14  # kg/m³, warm humid air
SOUND_SPEED = 350.0  # m/s
KINEMATIC_VISCOSITY = 1.9e-5  # m²/s
CRITICAL_REYNOLDS = 1800.0
SECTIONS = 16


def _tube_response(freqs: np.ndarray, areas_cm2: np.ndarray, length_m: float) -> np.ndarray:
    """U_lips / U_glottis of a chain of uniform sections with a radiation load at the lips."""
    section = length_m / len(areas_cm2)
    k = 2 * np.pi * freqs / SOUND_SPEED
    # Radiation impedance of a piston in a baffle (low-frequency approximation), lips area.
    lips = areas_cm2[-1] * 1e-4
    radius = np.sqrt(lips / np.pi)
    z0_lips = AIR_DENSITY * SOUND_SPEED / lips
    z_rad = z0_lips * ((k * radius) ** 2 / 2 + 1j * 0.8 * k * radius)
    a = np.ones_like(freqs, dtype=complex)
    b = np.zeros_like(freqs, dtype=complex)
    c = np.zeros_like(freqs, dtype=complex)
    d = np.ones_like(freqs, dtype=complex)
    # Small wall and viscous loss as an attenuation per metre that grows with sqrt(f).
    loss = 0.03 * np.sqrt(np.maximum(freqs, 1.0))
    for area in areas_cm2:
        z0 = AIR_DENSITY * SOUND_SPEED / (area * 1e-4)
        gamma = (loss + 1j * k) * section
        ch, sh = np.cosh(gamma), np.sinh(gamma)
        a, b, c, d = (a * ch + b * sh / z0, a * z0 * sh + b * ch, c * ch + d * sh / z0, c * z0 * sh + d * ch)
    # [P_in, U_in] = M [P_out, U_out], P_out = Z_rad U_out  →  U_out/U_in = 1 / (C Z_rad + D)
    return 1.0 / (c * z_rad + d)


def _filter_through_tract(source: np.ndarray, rate: int, areas: np.ndarray, length: float) -> np.ndarray:
    n = source.size
    size = 1 << int(np.ceil(np.log2(n + 2048)))
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    response = _tube_response(freqs, areas, length)
    out = np.fft.irfft(np.fft.rfft(source, size) * response, size)[:n]
    return np.diff(out, prepend=0.0)  # radiation: pressure ~ d/dt of the lips' volume velocity


def _area_function(rng: np.random.Generator, open_mouth: float) -> np.ndarray:
    """Areas in cm² along the tract, glottis to lips: a neutral tube bent by a few random modes."""
    x = np.linspace(0.0, 1.0, SECTIONS)
    log_area = np.log(3.0) + sum(rng.normal(0, 0.45) * np.cos(m * np.pi * x) for m in range(1, 4))
    areas = np.exp(log_area)
    areas[-3:] *= open_mouth  # the mouth opens wide for the expulsion
    return np.clip(areas, 0.3, 12.0)


def _rosenberg(rate: int, n: int, f0: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A glottal flow pulse train (Rosenberg's shape) with jitter and shimmer."""
    out = np.zeros(n)
    t = 0
    while t < n:
        period = int(rate / (f0[min(t, n - 1)] * (1 + rng.normal(0, 0.03))))
        opening, closing = int(0.4 * period), int(0.16 * period)
        pulse = np.concatenate(
            [
                0.5 * (1 - np.cos(np.pi * np.arange(opening) / max(opening, 1))),
                np.cos(0.5 * np.pi * np.arange(closing) / max(closing, 1)),
                np.zeros(max(period - opening - closing, 1)),
            ]
        )
        end = min(n, t + pulse.size)
        out[t:end] += pulse[: end - t] * (1 + rng.normal(0, 0.08))
        t += max(period, 1)
    return out


def _secretions(rate: int, n: int, onset: int, span: int, rng: np.random.Generator) -> np.ndarray:
    """Bubbles (Minnaert-frequency damped sinusoids) and reopening crackles over the expulsion."""
    out = np.zeros(n)
    events = int(rng.integers(12, 60))
    for _ in range(events):
        start = onset + int(rng.gamma(1.5, span / 3))
        if start >= n:
            continue
        if rng.random() < 0.6:
            radius_m = rng.uniform(0.5e-3, 4e-3)
            freq = 3.26 / radius_m
            decay = rng.uniform(0.004, 0.02)
            length = min(n - start, int(rate * decay * 5))
            t = np.arange(length) / rate
            event = np.sin(2 * np.pi * min(freq, 0.45 * rate) * t) * np.exp(-t / decay)
        else:
            length = min(n - start, int(rate * 0.015))
            t = np.arange(length) / rate
            ring = rng.uniform(150, 900)
            event = np.exp(-t / rng.uniform(0.001, 0.004)) * np.cos(2 * np.pi * ring * t)
            event[: max(1, int(rate * 0.0005))] *= -3.0  # the sharp initial deflection
        out[start : start + length] += event * rng.uniform(0.3, 1.0)
    return out


def cough(wet: bool, rate: int, rng: np.random.Generator) -> np.ndarray:
    """One cough (all three phases) at `rate`, float64, peak 1."""
    compress = int(rate * rng.uniform(0.05, 0.2))
    expel_s = rng.uniform(0.25, 0.6) if wet else rng.uniform(0.12, 0.35)
    voiced_s = rng.uniform(0.0, 0.25) if rng.random() < 0.6 else 0.0
    n_expel, n_voiced = int(rate * expel_s), int(rate * voiced_s)
    n = compress + n_expel + n_voiced + int(rate * 0.1)
    t = np.arange(n_expel) / rate

    pressure = rng.uniform(500, 2500) * np.exp(-t / (expel_s * rng.uniform(0.15, 0.35)))
    opening = rng.uniform(0.002, 0.02)
    peak_area = rng.uniform(0.8, 2.5) if wet else rng.uniform(0.3, 1.5)  # cm²
    area = peak_area * 1e-4 * np.clip(t / opening, 0, 1) * (1 - 0.5 * np.clip(t / expel_s, 0, 1))
    flow = area * np.sqrt(2 * pressure / AIR_DENSITY)  # m³/s
    width = np.sqrt(np.maximum(area, 1e-9) * 4 / np.pi)
    reynolds = flow / np.maximum(area, 1e-9) * width / KINEMATIC_VISCOSITY
    # A turbulent (dipole) source's pressure grows about as the cube of the flow speed.
    strength = (reynolds > CRITICAL_REYNOLDS) * (flow / (flow.max() + 1e-12)) ** 3
    noise = rng.standard_normal(n_expel) * strength

    source = np.zeros(n)
    source[compress : compress + n_expel] = noise + 0.3 * flow / (flow.max() + 1e-12)
    if n_voiced:
        tv = np.arange(n_voiced) / rate
        f0 = rng.uniform(90, 260) * (1 - 0.2 * tv / max(voiced_s, 1e-3))
        fade = np.exp(-tv / max(voiced_s / 2, 1e-3))
        source[compress + n_expel : compress + n_expel + n_voiced] = (
            rng.uniform(0.3, 0.9) * _rosenberg(rate, n_voiced, f0, rng) * fade
        )
    length = rng.uniform(0.17, 0.19)
    areas = _area_function(rng, open_mouth=rng.uniform(1.5, 3.0))
    out = _filter_through_tract(source, rate, areas, length)
    if wet:
        span = n_expel + n_voiced
        out = out / (np.max(np.abs(out)) + 1e-12)
        out += rng.uniform(0.3, 0.8) * _secretions(rate, n, compress, span, rng)
        # The liquid layer damps the high band: a one-pole low-pass at 1.2–3 kHz.
        pole = np.exp(-2 * np.pi * rng.uniform(1200, 3000) / rate)
        out = lfilter([1 - pole], [1, -pole], out)
    return out / (np.max(np.abs(out)) + 1e-12)
