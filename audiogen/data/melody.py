"""Monophonic melodies as MusicVAE event sequences, cut into fixed-length windows of 16-step segments.

**Events** (docs/design.md §4), one class per 16th-note step (4 steps per quarter note):
  0 = no event (the note sounding goes on, or the rest goes on), 1 = note-off (a rest starts),
  2..89 = note-on of MIDI pitch 21..108 (class = pitch - 19), 90 = padding (`PAD`: no time).
A melody that starts with silence starts with no-event steps.

**Meters.** A 4/4 bar is 16 steps, so MusicVAE's fixed shapes are bars of 16 steps. Every bar is
turned into **segments of 16 steps**: a bar of up to 16 steps is one segment whose unused tail is
`PAD` (3/4 and 6/8: 12 steps + 4 pad; 2/4: 8 + 8; 3/8: 6 + 10); a longer bar (5/4, 9/8, 12/8)
is split into consecutive segments of 16 steps, the last one padded (9/8 = 18 steps: 16, then
2 + 14 pad). Padding steps carry no time: dropping them gives the melody back exactly
(`events_to_notes`). A short bar (the bar a mid-bar meter change interrupts, an ABC tune's short
last bar) is padded the same way. MIDI files carry no pickup mark: their grid starts at time 0.

**Windows** (`windows`): a window is `bars` consecutive segments (2 for the 2-bar model, 16 for the
16-bar model; the hierarchical decoder's conductor takes one step per segment), flattened to
`bars * 16` events. Windows start at bar lines (never inside a bar), every `hop_bars` bars; one
that would run past the melody's end is not cut. A window whose segments span bars of different
meters is kept (its meter label joins them, "3/4+2/4"). With bars longer than 16 steps a window
may end inside a bar.
  - **Mostly silence** is dropped: a window is kept only when a note sounds during at least half
    (`MIN_SOUNDING`) of its non-padding steps.
  - A window that starts while a note is held (a no-event first step under a sounding note) gets
    that note's note-on as its first event, so every window stands alone.

**Meter changes** start a new bar grid where they happen (see `audiogen.data.midi_notes`); the
melody goes on across them, and windows may span them.

**Transposition** (`transpose`): every window moved by each shift in semitones; a shifted window
with a note outside MIDI 21..108 is dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiogen.data.midi_notes import (HIGHEST_PITCH, LOWEST_PITCH, STEPS_PER_QUARTER, MelodyInputError, NoteList,
                                      quantise, read_abc_notes, read_midi_notes, skyline)
from audiogen.errors import BadInputError, load_failure_reason

NO_EVENT = 0
NOTE_OFF = 1
FIRST_NOTE_ON = 2  # class of MIDI pitch LOWEST_PITCH
PAD = 90
NUM_CLASSES = 91  # 90 MusicVAE classes + padding
SEGMENT_STEPS = 16
MIN_SOUNDING = 0.5


def note_on(pitch: int) -> int:
    """Event class of a note-on of MIDI `pitch` (21..108)."""
    return pitch - LOWEST_PITCH + FIRST_NOTE_ON


def _pitch_of(event: int) -> int:
    return int(event) - FIRST_NOTE_ON + LOWEST_PITCH


def meter_label(numerator: int, denominator: int) -> str:
    return f"{numerator}/{denominator}"


@dataclass
class Melody:
    """One monophonic melody on the 16th-note grid.

    events: (T,) int8, one class per step (module docstring), no padding.
    bar_starts: (B,) int64, the step where each bar starts (bar_starts[0] == 0); bar b ends where
        bar b+1 starts, the last bar at T.
    time_signatures: ((first bar index, numerator, denominator), ...), one entry per meter change,
        the first at bar 0.
    """

    events: np.ndarray
    bar_starts: np.ndarray
    time_signatures: tuple[tuple[int, int, int], ...]
    source: str
    track: int | None = None  # MIDI instrument index; None for ABC
    track_name: str = ""
    title: str = ""
    notes_total: int = 0  # notes read in MIDI 21..108
    notes_kept: int = 0   # notes left by the skyline

    @property
    def time_signature(self) -> tuple[int, int]:
        """(numerator, denominator) of the first bar."""
        return self.time_signatures[0][1], self.time_signatures[0][2]

    @property
    def steps_per_bar(self) -> int:
        """Steps in a full bar of the first meter (4/4: 16, 6/8: 12)."""
        numerator, denominator = self.time_signature
        return numerator * 16 // denominator

    @property
    def bar_steps(self) -> np.ndarray:
        """(B,) int64: the length of each bar in steps."""
        return np.diff(np.append(self.bar_starts, len(self.events)))

    def meter(self, first_bar: int = 0, last_bar: int | None = None) -> str:
        """Meter label of bars first..last (inclusive; default all): "6/8", or "3/4+2/4" for changes."""
        last = len(self.bar_starts) - 1 if last_bar is None else last_bar
        labels = []
        for i, (bar, numerator, denominator) in enumerate(self.time_signatures):
            following = self.time_signatures[i + 1][0] if i + 1 < len(self.time_signatures) else len(self.bar_starts)
            if bar <= last and following > first_bar:
                label = meter_label(numerator, denominator)
                if not labels or labels[-1] != label:
                    labels.append(label)
        return "+".join(labels)


def melody_from_notes(notes: NoteList) -> Melody:
    """Quantise a NoteList to 16th notes, keep its skyline, and write the events on its bar grid.

    Raises MelodyInputError when no note is left.
    """
    bar_starts = np.floor(np.array([b.start for b in notes.bars]) * STEPS_PER_QUARTER + 0.5).astype(np.int64)
    last = notes.bars[-1]
    total = int(np.floor((last.start + last.length) * STEPS_PER_QUARTER + 0.5))
    # Rounding can merge a very short bar into the next: keep the first bar of each start.
    keep_bar = np.append(True, np.diff(bar_starts) > 0) & (bar_starts < total)
    bars = [b for b, k in zip(notes.bars, keep_bar) if k]
    bar_starts = bar_starts[keep_bar]
    steps = quantise(notes.notes)
    steps = steps[steps[:, 0] < total]
    steps[:, 1] = np.minimum(steps[:, 1], total)
    if not len(steps):
        raise MelodyInputError(notes.source, "no notes", kind="no notes")
    kept = steps[skyline(steps)]
    kept = kept[np.argsort(kept[:, 0], kind="stable")]
    events = np.zeros(total, dtype=np.int8)
    for i, (start, end, pitch) in enumerate(kept):
        events[start] = note_on(int(pitch))
        following = kept[i + 1, 0] if i + 1 < len(kept) else total
        if end < following:
            events[end] = NOTE_OFF
    signatures: list[tuple[int, int, int]] = []
    for index, bar in enumerate(bars):
        if not signatures or signatures[-1][1:] != (bar.numerator, bar.denominator):
            signatures.append((index, bar.numerator, bar.denominator))
    return Melody(events=events, bar_starts=bar_starts, time_signatures=tuple(signatures), source=notes.source,
                  track=notes.track, track_name=notes.track_name, title=notes.title,
                  notes_total=len(steps), notes_kept=len(kept))


def melody_from_midi(path: str | os.PathLike, track: int | None = None) -> Melody:
    """The melody of a MIDI file: its chosen (or `track`-th) instrument's skyline on its bar grid.

    Raises MelodyInputError (a BadInputError naming the file) when the file gives no melody.
    """
    return melody_from_notes(read_midi_notes(path, track))


def melody_from_abc(text: str, source: str, *, expand_repeats: bool = False) -> Melody:
    """The melody of one ABC tune (its whole text from X:), read by our ABC reader; `source` names it.

    `expand_repeats`: repeats and endings played out (`read_abc_notes`).
    """
    return melody_from_notes(read_abc_notes(text, source, expand_repeats=expand_repeats))


def sounding_pitch(events: np.ndarray) -> np.ndarray:
    """(T,) events without padding -> (T,) int64: the MIDI pitch sounding at each step, -1 for silence."""
    events = np.asarray(events).astype(np.int64)
    steps = np.arange(len(events))
    last_event = np.maximum.accumulate(np.where(events != NO_EVENT, steps, 0)) if len(events) else steps
    state = events[last_event] if len(events) else events
    return np.where(state >= FIRST_NOTE_ON, state - FIRST_NOTE_ON + LOWEST_PITCH, -1)


def segments(melody: Melody) -> tuple[np.ndarray, np.ndarray]:
    """The melody as 16-step segments (module docstring).

    Returns (events (S, 16) int8 with PAD in unused steps, bar (S,) int64: the bar of each segment).
    """
    rows, owners = [], []
    for bar, (start, length) in enumerate(zip(melody.bar_starts, melody.bar_steps)):
        for offset in range(0, int(length), SEGMENT_STEPS):
            row = np.full(SEGMENT_STEPS, PAD, dtype=np.int8)
            chunk = melody.events[start + offset:start + min(offset + SEGMENT_STEPS, length)]
            row[:len(chunk)] = chunk
            rows.append(row)
            owners.append(bar)
    if not rows:
        return np.zeros((0, SEGMENT_STEPS), np.int8), np.zeros(0, np.int64)
    return np.stack(rows), np.array(owners, dtype=np.int64)


def windows_with_bars(melody: Melody, bars: int, hop_bars: int = 1, *,
                      min_sounding: float = MIN_SOUNDING) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`windows`, plus the first and last bar index of each window: ((N, bars*16) int8, (N,), (N,))."""
    if bars < 1 or hop_bars < 1:
        raise ValueError("bars and hop_bars must be >= 1")
    segment_events, segment_bar = segments(melody)
    sounding = sounding_pitch(melody.events)
    real = segment_events != PAD
    # Steps of segment s are events[bar_start + 16 k ...]: rebuild their global step numbers.
    first_segment = np.searchsorted(segment_bar, np.arange(len(melody.bar_starts)))
    offsets = (np.arange(len(segment_bar)) - first_segment[segment_bar]) * SEGMENT_STEPS
    step_index = melody.bar_starts[segment_bar][:, None] + offsets[:, None] + np.arange(SEGMENT_STEPS)
    segment_sounding = ((sounding[np.minimum(step_index, len(sounding) - 1)] >= 0) & real).sum(axis=1)
    segment_real = real.sum(axis=1)
    out, first_bars, last_bars = [], [], []
    for bar in range(0, len(melody.bar_starts), hop_bars):
        s0 = first_segment[bar]
        s1 = s0 + bars
        if s1 > len(segment_bar):
            break
        if segment_sounding[s0:s1].sum() < min_sounding * segment_real[s0:s1].sum():
            continue
        window = segment_events[s0:s1].reshape(-1).copy()
        held = sounding[melody.bar_starts[bar]]
        if window[0] == NO_EVENT and held >= 0:
            window[0] = note_on(int(held))
        out.append(window)
        first_bars.append(bar)
        last_bars.append(segment_bar[s1 - 1])
    if not out:
        return np.zeros((0, bars * SEGMENT_STEPS), np.int8), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.stack(out), np.array(first_bars, dtype=np.int64), np.array(last_bars, dtype=np.int64)


def windows(melody: Melody, bars: int, hop_bars: int = 1) -> np.ndarray:
    """Bar-aligned windows of `bars` 16-step segments, every `hop_bars` bars: (N, bars*16) int8.

    Mostly-silent windows are dropped; see the module docstring for the rules.
    """
    return windows_with_bars(melody, bars, hop_bars)[0]


def transpose(windows: np.ndarray, shifts: Iterable[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every window moved by every shift (semitones); shifted windows leaving MIDI 21..108 are dropped.

    windows: (N, L) int events. Returns (out (M, L) same dtype, shift (M,) int8, index (M,) int64:
    the window each row came from), ordered by shift, then window. Shift 0 (when asked for) keeps
    the windows as they are.
    """
    windows = np.asarray(windows)
    on = (windows >= FIRST_NOTE_ON) & (windows < PAD)
    lowest = np.where(on, windows, PAD).min(axis=1, initial=PAD).astype(np.int64)
    highest = np.where(on, windows, -1).max(axis=1, initial=-1).astype(np.int64)
    top = note_on(HIGHEST_PITCH)
    out, shift_of, index = [], [], []
    for shift in shifts:
        ok = ((lowest + shift >= FIRST_NOTE_ON) | (lowest == PAD)) & ((highest + shift <= top) | (highest < 0))
        moved = np.where(on, windows.astype(np.int64) + shift, windows).astype(windows.dtype)
        out.append(moved[ok])
        shift_of.append(np.full(int(ok.sum()), shift, dtype=np.int8))
        index.append(np.flatnonzero(ok))
    if not out:
        return windows[:0], np.zeros(0, np.int8), np.zeros(0, np.int64)
    return np.concatenate(out), np.concatenate(shift_of), np.concatenate(index)


def events_to_notes(events: np.ndarray) -> list[tuple[int, int, int]]:
    """Events (any shape, flattened; PAD allowed anywhere) -> [(start step, end step, MIDI pitch)].

    Padding steps are removed first (they carry no time), so steps count real 16th notes. A note
    lasts from its note-on to the next note-on or note-off, or to the end.
    """
    flat = np.asarray(events).reshape(-1).astype(np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= NUM_CLASSES):
        raise ValueError(f"event classes must be 0..{NUM_CLASSES - 1}")
    flat = flat[flat != PAD]
    notes: list[tuple[int, int, int]] = []
    current: tuple[int, int] | None = None  # (start, pitch)
    for step in np.flatnonzero(flat != NO_EVENT):
        if current is not None:
            notes.append((current[0], int(step), current[1]))
            current = None
        if flat[step] >= FIRST_NOTE_ON:
            current = (int(step), _pitch_of(flat[step]))
    if current is not None:
        notes.append((current[0], len(flat), current[1]))
    return notes


def write_midi(events: np.ndarray, path: str | os.PathLike, *, bpm: float = 120.0, program: int = 0,
               time_signature: tuple[int, int] | None = (4, 4), velocity: int = 100,
               meter_changes: Sequence[tuple[int, tuple[int, int]]] = ()) -> Path:
    """A one-track MIDI file of an event sequence (PAD steps carry no time), written atomically.

    A step is a 16th note at `bpm` quarter notes per minute. `time_signature` holds from the start;
    `meter_changes` are later ones as (step counted in sounding steps, (numerator, denominator)).
    Returns the path.
    """
    from audiogen.runtime.atomic import atomic_output

    pm = events_to_pretty_midi(events, bpm=bpm, program=program, time_signature=time_signature, velocity=velocity,
                               meter_changes=meter_changes)
    with atomic_output(path) as tmp:
        pm.write(str(tmp))
    return Path(path)


def events_to_pretty_midi(events: np.ndarray, *, bpm: float = 120.0, program: int = 0,
                          time_signature: tuple[int, int] | None = (4, 4), velocity: int = 100,
                          meter_changes: Sequence[tuple[int, tuple[int, int]]] = ()):
    """The `pretty_midi.PrettyMIDI` that `write_midi` writes for an event sequence."""
    from audiogen.data.soundfonts import import_pretty_midi

    pretty_midi = import_pretty_midi()
    step_seconds = 60.0 / bpm / STEPS_PER_QUARTER
    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    if time_signature is not None:
        pm.time_signature_changes.append(pretty_midi.TimeSignature(time_signature[0], time_signature[1], 0.0))
    for step, (numerator, denominator) in meter_changes:
        pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, denominator, step * step_seconds))
    instrument = pretty_midi.Instrument(program=program)
    for start, end, pitch in events_to_notes(events):
        instrument.notes.append(pretty_midi.Note(velocity=velocity, pitch=pitch, start=start * step_seconds,
                                                 end=end * step_seconds))
    pm.instruments.append(instrument)
    return pm


# ------------------------------------------------------------------------------------ data sets

MIDI_EXTENSIONS = (".mid", ".midi")
ABC_EXTENSIONS = (".abc",)


def find_melody_files(roots: Iterable[str | os.PathLike]) -> tuple[list[Path], list[Path]]:
    """(MIDI files, ABC files) given as files or found under folders (recursively, hidden names left out).

    Raises BadInputError for a missing path, a file that is neither MIDI nor ABC, or a folder
    holding neither.
    """
    from audiogen.data.files import has_extension, list_files

    midi: list[Path] = []
    abc: list[Path] = []
    wanted = MIDI_EXTENSIONS + ABC_EXTENSIONS
    for root in map(Path, roots):
        found = list_files(root, wanted)
        if root.is_file() and not has_extension(root, wanted):
            raise BadInputError(root, "not a MIDI (.mid, .midi) or ABC (.abc) file")
        if not found:
            raise BadInputError(root, "no .mid, .midi or .abc files in this folder")
        for path in found:
            (abc if has_extension(path, ABC_EXTENSIONS) else midi).append(path)
    return midi, abc


class WindowCollector:
    """Cuts melodies into windows and keeps what each came from, for `save_windows`.

    `add(melody)` returns how many windows it gave. Counters: `melodies`, `melodies_without_windows`,
    `notes_total`, `notes_kept` (skyline), `by_meter` (windows before transposition).
    """

    def __init__(self, bars: int, hop_bars: int):
        self.bars, self.hop_bars = bars, hop_bars
        self.melodies = self.melodies_without_windows = self.notes_total = self.notes_kept = 0
        self.by_meter: dict[str, int] = {}
        self._events: list[np.ndarray] = []
        self._source: list[np.ndarray] = []
        self._start_bar: list[np.ndarray] = []
        self._meter: list[str] = []
        self.sources: list[str] = []
        self.titles: list[str] = []
        self.tracks: list[int] = []

    def add(self, melody: Melody) -> int:
        found, first, last = windows_with_bars(melody, self.bars, self.hop_bars)
        self.melodies += 1
        self.notes_total += melody.notes_total
        self.notes_kept += melody.notes_kept
        if not len(found):
            self.melodies_without_windows += 1
            return 0
        index = len(self.sources)
        self.sources.append(melody.source)
        self.titles.append(melody.title or melody.track_name)
        self.tracks.append(-1 if melody.track is None else melody.track)
        self._events.append(found)
        self._source.append(np.full(len(found), index, dtype=np.int32))
        self._start_bar.append(first.astype(np.int32))
        for a, b in zip(first, last):
            meter = melody.meter(int(a), int(b))
            self._meter.append(meter)
            self.by_meter[meter] = self.by_meter.get(meter, 0) + 1
        return len(found)

    def __len__(self) -> int:
        return len(self._meter)

    def arrays(self, shifts: Iterable[int] | None = None) -> dict[str, np.ndarray]:
        """The data set as arrays (the .npz layout in `save_windows`), transposed by `shifts` if given."""
        width = self.bars * SEGMENT_STEPS
        events = np.concatenate(self._events) if self._events else np.zeros((0, width), np.int8)
        source = np.concatenate(self._source) if self._source else np.zeros(0, np.int32)
        start_bar = np.concatenate(self._start_bar) if self._start_bar else np.zeros(0, np.int32)
        meter = np.array(self._meter, dtype=str).reshape(-1)
        if shifts is None:
            shift, origin = np.zeros(len(events), np.int8), np.arange(len(events))
        else:
            events, shift, origin = transpose(events, shifts)
        return {"events": events.astype(np.int8), "source": source[origin], "start_bar": start_bar[origin],
                "meter": meter[origin], "transpose": shift, "window": origin.astype(np.int64),
                "sources": np.array(self.sources, dtype=str).reshape(-1),
                "titles": np.array(self.titles, dtype=str).reshape(-1),
                "tracks": np.array(self.tracks, dtype=np.int16),
                "bars": np.int64(self.bars), "hop_bars": np.int64(self.hop_bars),
                "segment_steps": np.int64(SEGMENT_STEPS), "steps_per_quarter": np.int64(STEPS_PER_QUARTER),
                "num_classes": np.int64(NUM_CLASSES), "pad_class": np.int64(PAD)}


def save_windows(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """Write `WindowCollector.arrays()` as a compressed .npz, atomically. Loads without pickle.

    Layout (N windows, S sources): events (N, bars*16) int8 classes 0..90; source (N,) int32 into
    sources (S,) str / titles (S,) str / tracks (S,) int16 (MIDI instrument, -1 for ABC);
    start_bar (N,) int32 (first bar of the window in its melody); meter (N,) str ("6/8");
    transpose (N,) int8 semitones; window (N,) int64 (row before transposition); scalars bars,
    hop_bars, segment_steps (16), steps_per_quarter (4), num_classes (91), pad_class (90);
    `data melodies` adds the scalar expand_repeats (bool: ABC repeats played out).
    """
    from audiogen.runtime.atomic import atomic_output

    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    return Path(path)


def collect_windows(paths: Iterable[str | os.PathLike], bars: int, hop_bars: int, *, skips, track: int | None = None,
                    on_start=None, on_item=None, jobs: int | None = None,
                    expand_repeats: bool = False) -> tuple[WindowCollector, dict]:
    """Melody windows of every MIDI file and ABC tune in `paths` (files or folders).

    `expand_repeats`: ABC tunes are read with their repeats and endings played out (MIDI files
    already are).
    Unusable melodies go to `skips` (a SkipLog). `on_start(total inputs)` is called once the files
    are listed and the ABC tunes read, `on_item()` after each input. `jobs` worker processes read
    the melodies (default: the command's thread count, at most 4, for 200 MIDI files or more;
    else 1); the windows and their order do not depend on it. Returns the collector and counts {"midi_files",
    "abc_files", "abc_tunes", "abc_read" (AbcReadReport dict or None), "jobs"}.
    """
    import multiprocessing

    midi_files, abc_files = find_melody_files(paths)
    tunes, abc_report = [], None
    if abc_files:
        from audiogen.data.abc import AbcReadReport, read_abc

        abc_report = AbcReadReport()
        tunes = read_abc(abc_files, skips=skips, report=abc_report)
    collector = WindowCollector(bars, hop_bars)
    items = [("midi", str(p), track) for p in midi_files]
    items += [("abc" + ("-expanded" if expand_repeats else ""), t.text, f"{t.source}:{t.line}") for t in tunes]
    if jobs is None:  # a worker's start (~2 s of imports) pays off only on a few hundred MIDI files; an ABC
        from audiogen.runtime.threads import threads_in_use  # tune takes ~2 ms to read in this process

        jobs = min(threads_in_use(), 4) if len(midi_files) >= 200 else 1
    jobs = max(1, min(jobs, len(items) or 1))
    if on_start is not None:
        on_start(len(items))
    pool = None
    try:
        if jobs == 1:
            results = map(_read_melody, items)
        else:
            # spawn, not fork: forking beside the progress bar's thread can deadlock
            from audiogen.runtime.threads import ignore_sigint

            pool = multiprocessing.get_context("spawn").Pool(jobs, initializer=ignore_sigint)
            results = pool.imap(_read_melody, items, chunksize=8)
        for melody, skipped in results:
            if melody is not None:
                collector.add(melody)
            else:
                skips.skip(*skipped[:2], kind=skipped[2])
            if on_item is not None:
                on_item()
    finally:
        if pool is not None:
            pool.terminate()
    counts = {"midi_files": len(midi_files), "abc_files": len(abc_files), "abc_tunes": len(tunes),
              "abc_read": None if abc_report is None else abc_report.to_dict(), "jobs": jobs}
    return collector, counts


def _read_melody(item: tuple[str, str, object]) -> tuple[Melody | None, tuple | None]:
    """One input of `collect_windows` (in a worker process or not): (melody, None), or
    (None, (path, problem, kind)) for an unusable one."""
    from audiogen.data.midi_notes import MelodyInputError

    kind, what, extra = item
    try:
        if kind == "midi":
            melody = melody_from_midi(what, extra)
        else:
            melody = melody_from_abc(what, extra, expand_repeats=kind == "abc-expanded")
    except MelodyInputError as e:
        return None, (e.path, e.problem, e.kind)
    return melody, None


def load_windows(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A window set written by `save_windows` (no pickle); BadInputError naming the file if it is not one."""
    import zipfile

    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise BadInputError(path, "no such file") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
        raise BadInputError(path, "not a melody window file (.npz from 'audiogen data melodies'): "
                                 f"{load_failure_reason(e)}") from None
    missing = [k for k in ("events", "source", "sources", "bars") if k not in arrays]
    if missing:
        raise BadInputError(path, f"not a melody window file: no {', '.join(missing)} array")
    events = arrays["events"]
    if not np.issubdtype(events.dtype, np.integer):
        if not np.issubdtype(events.dtype, np.floating) or not np.isfinite(events).all() \
                or (events != np.round(events)).any():
            raise BadInputError(path, f"events are {events.dtype} with non-integer, NaN or infinite values; "
                                      "expected event classes (integers)")
        arrays["events"] = events = events.astype(np.int64)
    if events.ndim != 2 or events.shape[1] != int(arrays["bars"]) * SEGMENT_STEPS:
        raise BadInputError(path, f"events have shape {events.shape}, expected (N, bars * {SEGMENT_STEPS})")
    if events.size and (events.min() < 0 or events.max() >= NUM_CLASSES):
        raise BadInputError(path, f"event classes outside 0..{NUM_CLASSES - 1}")
    return arrays


def merge_windows(sets: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Window sets (`WindowCollector.arrays` / `load_windows` layout, same `bars`) as one set."""
    if len(sets) == 1:
        return sets[0]
    per_window = ("events", "source", "start_bar", "meter", "transpose", "window")
    per_source = ("sources", "titles", "tracks")
    merged: dict[str, list] = {k: [] for k in per_window + per_source}
    offset = 0
    for arrays in sets:
        for key in per_window:
            value = arrays[key] + offset if key == "source" else arrays[key]
            merged[key].append(value)
        for key in per_source:
            merged[key].append(arrays[key])
        offset += len(arrays["sources"])
    out = {k: np.concatenate(v) for k, v in merged.items()}
    for key, value in sets[0].items():
        if key not in out:
            out[key] = value
    return out
