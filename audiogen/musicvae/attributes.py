"""Melody attributes and MusicVAE's attribute vectors (Roberts et al. 2018, section 5.3).

An attribute vector is the mean latent code of the training windows with the most of an attribute
minus that of the windows with the least (top and bottom quartiles). Adding `amount` times it to a
melody's code moves the decoded melody toward more (or, negative, less) of the attribute.
"""

from __future__ import annotations

import numpy as np

from audiogen.data.melody import FIRST_NOTE_ON, LOWEST_PITCH, PAD
from audiogen.errors import AudiogenError

ATTRIBUTES = {
    "note_density": "note onsets per 16th-note step (padding steps left out)",
    "pitch_range": "highest minus lowest note, semitones",
    "mean_pitch": "mean MIDI pitch of the notes",
}
QUANTILE = 0.25


def measure(events: np.ndarray) -> dict[str, np.ndarray]:
    """events (N, T) int classes -> {attribute: (N,) float64}; NaN where a window has no note."""
    events = np.asarray(events).astype(np.int64)
    onset = (events >= FIRST_NOTE_ON) & (events < PAD)
    steps = (events != PAD).sum(axis=1)
    pitch = np.where(onset, events - FIRST_NOTE_ON + LOWEST_PITCH, 0).astype(np.float64)
    notes = onset.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        density = notes / np.maximum(steps, 1)
        mean = np.where(notes > 0, pitch.sum(axis=1) / np.maximum(notes, 1), np.nan)
        high = np.where(onset, pitch, -np.inf).max(axis=1)
        low = np.where(onset, pitch, np.inf).min(axis=1)
        span = np.where(notes > 0, high - low, np.nan)
    return {"note_density": density, "pitch_range": span, "mean_pitch": mean}


def attribute_vectors(mu: np.ndarray, values: dict[str, np.ndarray]) -> dict[str, dict]:
    """mu (N, Z) latent means; values from `measure` -> {attribute: {"vector": (Z,) list, "low", "high"}}.

    "low"/"high" are the attribute's mean over the bottom/top quartile windows the vector joins.
    """
    out = {}
    for name, value in values.items():
        ok = np.isfinite(value)
        if ok.sum() < 8:
            continue
        low_cut, high_cut = np.quantile(value[ok], [QUANTILE, 1 - QUANTILE])
        low = ok & (value <= low_cut)
        high = ok & (value >= high_cut)
        if not low.any() or not high.any() or low_cut == high_cut:
            continue
        vector = mu[high].mean(axis=0) - mu[low].mean(axis=0)
        out[name] = {"vector": [round(float(v), 6) for v in vector], "low": float(value[low].mean()),
                     "high": float(value[high].mean())}
    return out


def parse_attribute(text: str, available: dict) -> tuple[str, float]:
    """"note_density=+1.0" -> ("note_density", 1.0); AudiogenError for an unknown name or a bad amount."""
    name, sep, amount = text.partition("=")
    name = name.strip()
    names = ", ".join(available) or "none"
    if not sep:
        raise AudiogenError(f"--attribute {text!r}: expected NAME=AMOUNT, e.g. note_density=+1.0 (names: {names})")
    if name not in available:
        raise AudiogenError(f"--attribute {text!r}: this model has no attribute {name!r} (it has: {names})")
    try:
        value = float(amount)
    except ValueError:
        raise AudiogenError(f"--attribute {text!r}: {amount.strip()!r} is not a number") from None
    if not np.isfinite(value):
        raise AudiogenError(f"--attribute {text!r}: the amount must be finite")
    return name, value
