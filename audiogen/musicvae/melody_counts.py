"""A musician's counts for melodies, the same for samples and for real tunes (docs/design.md §8).

Melodies are event windows (N, bars * 16) of `audiogen.data.melody` classes; a bar is one 16-step
segment (a 3/4 or 6/8 bar is 12 steps and 4 padding, as the windows lay it out). Per melody:

- in_scale: the share of its notes whose pitch class lies in the best-fitting diatonic scale (the
  12 seven-note sets of the major scale and its modes, so natural minor is one of them);
- repeated_bars: the share of bars 1.. that equal an earlier bar of the same melody step for step
  (rhythm and pitches), counting only bars with a note onset (a tune played AABB: the second A and
  B halves repeat);
- notes_per_bar: note onsets per bar;
- pitch_range: highest minus lowest note, semitones.

`melody_counts` returns the mean of each over the melodies with notes.
"""

from __future__ import annotations

import numpy as np

from audiogen.data.melody import FIRST_NOTE_ON, PAD, SEGMENT_STEPS

MAJOR_SCALE = np.array([0, 2, 4, 5, 7, 9, 11])
# (12, 12) bool: row t is the diatonic scale on tonic t (its six other modes are rotations of it)
DIATONIC_SETS = np.array([np.isin(np.arange(12), (MAJOR_SCALE + t) % 12) for t in range(12)])
COUNT_NAMES = ("in_scale", "repeated_bars", "notes_per_bar", "pitch_range")


def _onsets(events: np.ndarray) -> np.ndarray:
    return (events >= FIRST_NOTE_ON) & (events < PAD)


def in_scale_share(events: np.ndarray) -> float:
    """One melody (T,): the largest share of its notes inside one diatonic scale; NaN without notes."""
    events = np.asarray(events).reshape(-1)
    classes = (events[_onsets(events)].astype(np.int64) - FIRST_NOTE_ON) % 12
    if not len(classes):
        return float("nan")
    return float(DIATONIC_SETS[:, classes].mean(axis=1).max())


def repeated_bar_share(events: np.ndarray) -> float:
    """One melody (T,): the share of bars after the first that repeat an earlier bar exactly and
    have a note onset; NaN for a one-bar melody."""
    bars = np.asarray(events).reshape(-1, SEGMENT_STEPS)
    if len(bars) < 2:
        return float("nan")
    sounding = _onsets(bars).any(axis=1)
    same = (bars[:, None, :] == bars[None, :, :]).all(axis=-1)  # (bars, bars)
    earlier = np.tril(same, k=-1).any(axis=1)
    return float((earlier & sounding)[1:].mean())


def per_melody_counts(events: np.ndarray) -> dict[str, np.ndarray]:
    """(N, T) melodies -> {count name: (N,) float64}, NaN where a melody has no notes."""
    events = np.asarray(events).astype(np.int64)
    if events.ndim == 1:
        events = events[None]
    onsets = _onsets(events)
    pitches = np.where(onsets, events, -1)
    ranges = np.array([np.ptp(row[row >= 0]) if (row >= 0).any() else np.nan for row in pitches], dtype=float)
    bars = events.shape[1] // SEGMENT_STEPS
    return {"in_scale": np.array([in_scale_share(row) for row in events]),
            "repeated_bars": np.array([repeated_bar_share(row) for row in events]),
            "notes_per_bar": onsets.sum(axis=1) / bars,
            "pitch_range": ranges}


def melody_counts(events: np.ndarray) -> dict[str, float | int | None]:
    """(N, T) melodies -> {"melodies", "silent", each of COUNT_NAMES: its mean over melodies with notes}.

    "silent" counts melodies without a note, left out of the means.
    """
    counts = per_melody_counts(events)
    sounding = np.isfinite(counts["in_scale"])
    out: dict[str, float | int | None] = {"melodies": int(len(sounding)), "silent": int((~sounding).sum())}
    for name in COUNT_NAMES:
        values = counts[name][sounding]
        values = values[np.isfinite(values)]
        out[name] = round(float(values.mean()), 4) if len(values) else None
    return out
