"""Pitch in one place: MIDI numbers and Hz, and librosa's pYIN (a signal-processing f0 tracker,
trained on nothing) over a wave. Every family's independent pitch measure reads notes through
`pyin_track`; librosa is imported only when it is called (a lean GPU machine may lack it)."""

from __future__ import annotations

import numpy as np


def midi_to_hz(midi) -> np.ndarray:
    """MIDI note number(s) -> Hz (A4 = MIDI 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((np.asarray(midi, np.float64) - 69) / 12)


def hz_to_midi(hz) -> np.ndarray:
    """Hz -> fractional MIDI number(s); NaN stays NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return 69 + 12 * np.log2(np.asarray(hz, np.float64) / 440.0)


def semitone_error(f0, pitches) -> np.ndarray:
    """Signed distance in semitones from each f0 (Hz) to its MIDI pitch; NaN where f0 is NaN."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return 12 * np.log2(np.asarray(f0, np.float64) / midi_to_hz(pitches))


def pyin_track(wave, sample_rate: int, *, fmin: float, fmax: float, frame_length: int = 2048,
               hop: int = 256, center: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pYIN over a whole (T,) wave: (frame times in s, f0 in Hz with NaN where unvoiced, voiced
    flags). fmax is kept below Nyquist. ImportError without librosa."""
    import librosa

    y = np.asarray(wave.detach().cpu() if hasattr(wave, "detach") else wave, np.float32)
    f0, voiced, _ = librosa.pyin(y, fmin=fmin, fmax=min(fmax, sample_rate / 2 - 100), sr=sample_rate,
                                 frame_length=frame_length, hop_length=hop, center=center)
    return np.arange(len(f0)) * hop / sample_rate, np.where(voiced, f0, np.nan), voiced
