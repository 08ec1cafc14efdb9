"""What MusicVAE eats: melody windows (`audiogen.data.melody`) from MIDI/ABC files or .npz window sets.

Windows are (N, bars * 16) int8 event classes, 16-step segments (3/4 and 6/8 bars padded), with
the melody (`source`) each came from, so training can hold out whole tunes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from audiogen.data.melody import (Melody, collect_windows, load_windows, melody_from_abc,
                                  melody_from_midi, merge_windows, segments, windows_with_bars)
from audiogen.data.skips import SkipLog
from audiogen.errors import AudiogenError, BadInputError

WINDOW_SET_EXTENSION = ".npz"


def read_window_sets(paths: Sequence[str | os.PathLike], bars: int, hop_bars: int, *, skips: SkipLog,
                     track: int | None = None, on_start: Callable[[int], None] | None = None,
                     on_item: Callable[[], None] | None = None) -> dict[str, np.ndarray]:
    """Windows of `bars` segments from .npz window sets (`audiogen data melodies`) and MIDI/ABC files/folders.

    Returns one set in the `save_windows` layout. BadInputError for a .npz cut for another length;
    AudiogenError when nothing gives a window.
    """
    sets = []
    for path in (Path(p) for p in paths):
        if path.suffix.lower() == WINDOW_SET_EXTENSION:
            arrays = load_windows(path)
            if int(arrays["bars"]) != bars:
                raise BadInputError(path, f"holds {int(arrays['bars'])}-bar windows; this model needs {bars}-bar "
                                          f"windows (audiogen data melodies --bars {bars})")
            sets.append(arrays)
    melody_paths = [p for p in paths if Path(p).suffix.lower() != WINDOW_SET_EXTENSION]
    if melody_paths:
        collector, counts = collect_windows(melody_paths, bars, hop_bars, skips=skips, track=track,
                                            on_start=on_start, on_item=on_item)
        if len(collector):
            sets.append(collector.arrays())
        elif not sets:
            reasons = ", ".join(f"{kind} {n}" for kind, n in skips.reasons.items())
            raise AudiogenError(
                f"no {bars}-bar melody windows in {', '.join(map(str, melody_paths))}: "
                f"{counts['midi_files']} MIDI files and {counts['abc_tunes']} ABC tunes gave "
                f"{collector.melodies} melodies, none {bars} bars long with notes sounding at least half the time"
                + (f" (skipped: {reasons})" if reasons else ""))
    if not sets or not sum(len(s["events"]) for s in sets):
        raise AudiogenError(f"no {bars}-bar melody windows in {', '.join(map(str, paths))}")
    return merge_windows(sets)


def split_by_source(source: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows (train, validation) with whole melodies held out: `val_fraction` of the distinct sources.

    source: (N,) the melody of each window. With one melody, or val_fraction 0, nothing is held out.
    """
    melodies = np.unique(source)
    count = int(round(val_fraction * len(melodies)))
    if val_fraction > 0 and len(melodies) >= 2:
        count = min(max(count, 1), len(melodies) - 1)
    else:
        count = 0
    held = np.random.default_rng(seed).permutation(melodies)[:count]
    is_val = np.isin(source, held)
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def source_names(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """(N,) str: the melody of each window by name: "<file name>:<line>" for ABC tunes, the file name
    for MIDI files (folders dropped, so the same tunes read from another folder match)."""
    def name(source: str) -> str:
        path, colon, line = source.rpartition(":")
        return Path(path).name + colon + line if colon else Path(source).name

    names = np.array([name(s) for s in arrays["sources"].tolist()], dtype=str).reshape(-1)
    return names[arrays["source"]]


def split_by_names(arrays: dict[str, np.ndarray], heldout: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Rows (train, validation): the windows of the melodies the window set `heldout` holds go to validation.

    BadInputError naming `heldout` when none of its melodies is in `arrays`.
    """
    held = load_windows(heldout)
    wanted = np.unique(source_names(held))
    is_val = np.isin(source_names(arrays), wanted)
    if not is_val.any():
        raise BadInputError(heldout, f"none of its {len(wanted)} melodies is in the training data "
                                     "(melodies are matched by file name and line)")
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def subset(arrays: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    """The windows `rows` of a window set (per-source arrays kept whole)."""
    per_window = {"events", "source", "start_bar", "meter", "transpose", "window"}
    return {k: (v[rows] if k in per_window else v) for k, v in arrays.items()}


def read_melody(path: str | os.PathLike, track: int | None = None, *, expand_repeats: bool = False) -> Melody:
    """The melody of one MIDI file, or of the first tune of an ABC file (`expand_repeats`: its repeats
    and endings played out); BadInputError naming the file."""
    from audiogen.data.abc import read_abc_file
    from audiogen.data.melody import ABC_EXTENSIONS, MIDI_EXTENSIONS

    path = Path(path)
    if not path.is_file():
        raise BadInputError(path, "no such file")
    suffix = path.suffix.lower()
    if suffix in MIDI_EXTENSIONS:
        return melody_from_midi(path, track)
    if suffix in ABC_EXTENSIONS:
        tunes = read_abc_file(path, skips=SkipLog(strict=True, asked=False))
        if not tunes:
            raise BadInputError(path, "no ABC tune (X: ... K: and a music line) in this file")
        return melody_from_abc(tunes[0].text, str(path), expand_repeats=expand_repeats)
    raise BadInputError(path, "not a MIDI (.mid, .midi) or ABC (.abc) file")


def melody_windows(melody: Melody, bars: int, path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Every bar-aligned window of `bars` segments: (events (N, bars*16) int8, first bar (N,)).

    BadInputError naming `path` when there is none: shorter than the model, or mostly silent.
    """
    found, first, _ = windows_with_bars(melody, bars, 1)
    if len(found):
        return found, first
    have = len(segments(melody)[0])
    if have < bars:
        raise BadInputError(path, f"the melody is {have} bars of 16 steps long, shorter than the model's "
                                  f"{bars} bars")
    raise BadInputError(path, f"no {bars}-bar stretch of the melody has notes sounding at least half the time")


def file_window(path: str | os.PathLike, bars: int, *, track: int | None = None, start_bar: int | None = None,
                ) -> tuple[np.ndarray, Melody, int]:
    """The window of `bars` segments a file's melody gives, for encoding: (events (bars*16,) int8, melody, bar).

    The first usable window, or the one starting at `start_bar` (0-based bar of the melody). An ABC
    tune shorter than `bars` as written is read again with its repeats played out (|: A :| -> A A), as
    the 16-bar model's training tunes were (`data melodies --expand-repeats`).
    """
    from audiogen.data.melody import ABC_EXTENSIONS

    melody = read_melody(path, track)
    if Path(path).suffix.lower() in ABC_EXTENSIONS and len(segments(melody)[0]) < bars:
        melody = read_melody(path, track, expand_repeats=True)
    found, first = melody_windows(melody, bars, path)
    if start_bar is None:
        return found[0], melody, int(first[0])
    match = np.flatnonzero(first == start_bar)
    if not len(match):
        usable = ", ".join(map(str, first[:12])) + (" ..." if len(first) > 12 else "")
        raise BadInputError(path, f"no usable {bars}-bar window starts at bar {start_bar} (usable start bars: "
                                  f"{usable})")
    return found[match[0]], melody, start_bar

