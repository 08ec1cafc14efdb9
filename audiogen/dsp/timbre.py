"""Timbre attributes measured from a waveform, with units: what a musician calls bright, noisy,
percussive or ringing, as plain signal measures a model cannot fool (docs/design.md §9).

Every function takes one mono note (T,) (numpy or torch) and its sample rate, and returns a float
(NaN where the attribute does not exist, e.g. the decay of a note that never falls 20 dB). The
level envelope is the RMS of 5-ms frames, in dB; spectra are 2048-point Hann frames with a
512-sample hop over a window of the note.

- `spectral_centroid_hz`: the magnitude-weighted mean frequency, Hz, over `window` seconds.
- `brightness`: the centroid over f0, in harmonics (1 for a sine; about 3.4 for a square wave's
  first 30 harmonics, whose magnitudes fall as 1/k).
- `attack_ms`: from the first frame within 40 dB of the peak to the peak, ms.
- `decay_s`: from the peak to the first frame 20 dB under it, s (an exponential decay with time
  constant tau gives tau ln 10).
- `peak_level_db`: the loudest 5-ms frame's RMS level, dB full scale (what a direction should not
  move much: loudness).
- `noisiness`: spectral flatness, the geometric over the arithmetic mean of the power spectrum,
  averaged over frames: near 1 for white noise, near 0 for a sine.
"""

from __future__ import annotations

import numpy as np

ENVELOPE_FRAME_S = 0.005
ONSET_BELOW_PEAK_DB = 40.0
DECAY_DB = 20.0
N_FFT = 2048
HOP = 512
SUSTAIN_WINDOW_S = (0.04, 0.5)  # after the attack, before most notes have faded
TINY = 1e-12


def _array(wave) -> np.ndarray:
    data = wave.detach().cpu().numpy() if hasattr(wave, "detach") else np.asarray(wave)
    return np.asarray(data, np.float64).reshape(-1)


def level_envelope_db(wave, sample_rate: int) -> np.ndarray:
    """(frames,) RMS level of consecutive 5-ms frames, dB (full scale 0 for a unit square wave)."""
    data = _array(wave)
    size = max(1, int(round(ENVELOPE_FRAME_S * sample_rate)))
    frames = data[: len(data) // size * size].reshape(-1, size)
    return 10 * np.log10(np.mean(frames ** 2, axis=1) + TINY)


def _power_frames(wave, sample_rate: int, window: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(frames, bins) power of Hann frames starting within `window` seconds, and the bin frequencies."""
    data = _array(wave)
    first, last = (int(round(t * sample_rate)) for t in window)
    starts = np.arange(first, max(first, min(last, len(data) - N_FFT)) + 1, HOP)
    if not len(starts) or len(data) < N_FFT:
        return np.zeros((0, N_FFT // 2 + 1)), np.fft.rfftfreq(N_FFT, 1 / sample_rate)
    frames = np.stack([data[s:s + N_FFT] for s in starts]) * np.hanning(N_FFT)
    return np.abs(np.fft.rfft(frames, axis=1)) ** 2, np.fft.rfftfreq(N_FFT, 1 / sample_rate)


def spectral_centroid_hz(wave, sample_rate: int, *, window: tuple[float, float] = SUSTAIN_WINDOW_S) -> float:
    """The magnitude-weighted mean frequency (Hz) of the frames in `window` (seconds), weighted by
    each frame's magnitude sum so that quiet frames count less; NaN for silence."""
    power, freqs = _power_frames(wave, sample_rate, window)
    magnitude = np.sqrt(power)
    total = magnitude.sum()
    return float((magnitude * freqs).sum() / total) if total > TINY else float("nan")


def brightness(wave, sample_rate: int, f0_hz: float, **kwargs) -> float:
    """The spectral centroid in harmonics of `f0_hz` (1.0: all energy at f0)."""
    return spectral_centroid_hz(wave, sample_rate, **kwargs) / float(f0_hz)


def attack_ms(wave, sample_rate: int) -> float:
    """Time from the note's onset (the first 5-ms frame within 40 dB of the peak) to its peak, ms."""
    envelope = level_envelope_db(wave, sample_rate)
    if not len(envelope) or envelope.max() <= 10 * np.log10(TINY) + 1:
        return float("nan")
    peak = int(np.argmax(envelope))
    onset = int(np.argmax(envelope >= envelope[peak] - ONSET_BELOW_PEAK_DB))
    return (peak - onset) * ENVELOPE_FRAME_S * 1000.0


def peak_level_db(wave, sample_rate: int) -> float:
    """The loudest 5-ms frame's RMS level, dB (0 dB: a unit square wave)."""
    envelope = level_envelope_db(wave, sample_rate)
    return float(envelope.max()) if len(envelope) else float("nan")


def decay_s(wave, sample_rate: int, *, drop_db: float = DECAY_DB) -> float:
    """Time from the peak to the first 5-ms frame `drop_db` under it, s; NaN when the note never
    falls that far (it rings to the end)."""
    envelope = level_envelope_db(wave, sample_rate)
    if not len(envelope):
        return float("nan")
    peak = int(np.argmax(envelope))
    below = np.flatnonzero(envelope[peak:] <= envelope[peak] - drop_db)
    return float(below[0] * ENVELOPE_FRAME_S) if len(below) else float("nan")


def noisiness(wave, sample_rate: int, *, window: tuple[float, float] = SUSTAIN_WINDOW_S) -> float:
    """Spectral flatness (0..1) averaged over the frames in `window`; NaN for silence."""
    power, _ = _power_frames(wave, sample_rate, window)
    loud = power.sum(axis=1) > TINY
    if not loud.any():
        return float("nan")
    power = power[loud] + TINY
    flatness = np.exp(np.mean(np.log(power), axis=1)) / np.mean(power, axis=1)
    return float(np.mean(flatness))


def measure_attributes(waves, sample_rate: int, f0_hz=None, *, level: bool = False) -> dict[str, np.ndarray]:
    """(N, T) sounds -> {"brightness", "attack", "decay", "noisiness"}: (N,) arrays (and "level",
    dB, with `level`). Brightness is in harmonics of `f0_hz` ((N,) Hz) when given (pitched notes),
    else the centroid in Hz (drums)."""
    waves = [_array(w) for w in waves]
    f0s = [None] * len(waves) if f0_hz is None else list(np.asarray(f0_hz, np.float64).reshape(-1))
    return {"brightness": np.array([spectral_centroid_hz(w, sample_rate) if f is None else brightness(w, sample_rate, f)
                                    for w, f in zip(waves, f0s)]),
            "attack": np.array([attack_ms(w, sample_rate) for w in waves]),
            "decay": np.array([decay_s(w, sample_rate) for w in waves]),
            "noisiness": np.array([noisiness(w, sample_rate) for w in waves]),
            **({"level": np.array([peak_level_db(w, sample_rate) for w in waves])} if level else {})}


def moved_the_named_way(low: np.ndarray, high: np.ndarray) -> dict:
    """Per-sound values of an attribute at -amount and +amount along its direction -> {"moved_share"
    (rose from low to high; an unmeasured end counts as not moved), "median_change"}."""
    both = np.isfinite(low) & np.isfinite(high)
    return {"moved_share": round(float((high[both] > low[both]).sum() / max(len(low), 1)), 3),
            "median_change": round(float(np.median(high[both] - low[both])), 4) if both.any() else None}


def step_report(name: str, low: dict[str, np.ndarray], high: dict[str, np.ndarray]) -> dict:
    """What moving from `low` to `high` ({attribute: (N,) values}, as `measure_attributes` gives)
    did: `moved_the_named_way` for attribute `name`, and "moves_with": the median change of every
    other attribute measured (level in dB included), in its own unit."""
    others = {}
    for other in low:
        both = np.isfinite(low[other]) & np.isfinite(high[other])
        if other != name and both.any():
            others[other] = round(float(np.median(high[other][both] - low[other][both])), 4)
    return {**moved_the_named_way(low[name], high[name]), "moves_with": others}


def describe(value, unit: str) -> str:
    """A measured value with its unit, to read at a glance: "4,949 Hz", "1.72 harmonics", "0.335 flatness"."""
    if value is None or not np.isfinite(value):
        return f"- {unit}"
    return f"{value:,.0f} {unit}" if abs(value) >= 100 else f"{value:.3g} {unit}"
