"""Notes and bar lines read from MIDI files and ABC tunes, and the skyline that makes them monophonic.

Both readers return a `NoteList`: notes as (start, end, MIDI pitch) in quarter notes, and the bar
grid as a list of `Bar` (start and length in quarter notes, plus the notated meter). Times are in
quarter notes, never seconds, so tempo changes do not move notes off the grid.

**MIDI** (pretty_midi): note times go seconds -> ticks (`PrettyMIDI.time_to_tick`) -> quarters
(ticks / resolution). The bar grid comes from the time signatures: bars of the notated length
from each time-signature event on (4/4 from time 0 when the file has none, or before its first);
a time signature that arrives mid-bar starts a new grid there, and the bar it interrupts keeps
only the time it had (a short bar). The grid runs on to the bar that holds the last note's end.
A meter whose bar is not a whole number of 16th notes (e.g. 3/32) is refused.

**Which MIDI track** (`choose_track`): drum instruments never; `track=N` (an index into the file's
instruments) overrides the choice. Otherwise, among the pitched instruments with notes, the order is
  1. a name that suggests the melody (`MELODY_NAME`: melody, lead, vocal, voice, soprano, solo, ...),
  2. not a bass part (GM bass programs 32-39, or a mean pitch below C3 = MIDI 48),
  3. the score  kept * kept / total  where `kept` counts the notes left by the skyline: the most
     notes, discounted by how polyphonic the track is (a 3-note chord track keeps a third),
  4. the higher mean pitch of the kept notes.

**ABC** (our reader, `audiogen.notation.notes`, as abc2midi plays a tune): the first voice; tied
notes are merged, grace notes and chord symbols are dropped, a chord gives all its notes (the
skyline keeps the top one). Repeats are not expanded unless asked (`expand_repeats`): the tune is
read once, as written, endings included. Bars lie between the tune's bar lines, each in the meter
in force at its closing line, with three repairs:
  - a first bar shorter than its meter is a pickup (anacrusis): everything moves later so that the
    pickup ends the first, full-length bar (which then starts with silence);
  - two short bars in a row whose lengths add up to one bar (the last bar of a part and the pickup
    of the next, split by a section line ``||`` or ``:|``) become one bar;
  - a bar exactly k bars long is k bars (bar lines left out, e.g. at a line break).
Any other bar keeps its written length: a short last bar stays short, an overlong bar stays long.

**Skyline** (`skyline`): on the 16th-note grid, at each step where notes start only the highest
onset counts; it becomes the melody note unless a higher melody note is still sounding, in which
case it is dropped. A melody note lasts until its end or the next melody onset, whichever comes
first. Notes hidden under a higher note never come back when the higher one ends (a sustained
lower voice would otherwise re-enter as a spurious new note).
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass

import numpy as np

from audiogen.errors import BadInputError

STEPS_PER_QUARTER = 4
LOWEST_PITCH, HIGHEST_PITCH = 21, 108  # the 88 keys of a piano: MusicVAE's note-on range
MELODY_NAME = re.compile(r"melod|lead|vocal|voice|voix|voz|stimme|soprano|sopran|singer|sing\b|solo|"
                         r"tune|theme|canto|cantus|lyric", re.IGNORECASE)
BASS_PROGRAMS = range(32, 40)  # General MIDI's bass group
BASS_MEAN_PITCH = 48  # C3: a part whose kept notes average below this is a bass line


class MelodyInputError(BadInputError):
    """A file or tune that yields no melody; `kind` groups the reasons in a job's summary."""

    def __init__(self, path: str | os.PathLike, problem: str, *, kind: str | None = None):
        super().__init__(path, problem)
        self.kind = kind or problem


@dataclass(frozen=True)
class Bar:
    """One bar: where it starts and how long it lasts (quarter notes), and its notated meter."""

    start: float
    length: float
    numerator: int
    denominator: int

    @property
    def nominal(self) -> float:
        """Length of a full bar of this meter, in quarter notes (6/8 -> 3.0)."""
        return self.numerator * 4 / self.denominator


@dataclass
class NoteList:
    """Notes of one melody source before quantisation.

    notes: (N, 3) float64 rows of (start, end, MIDI pitch), start and end in quarter notes.
    bars: the bar grid, contiguous from time 0, in order.
    """

    notes: np.ndarray
    bars: list[Bar]
    source: str
    track: int | None = None  # index of the MIDI instrument read; None for ABC
    track_name: str = ""
    title: str = ""


def quantise(notes: np.ndarray) -> np.ndarray:
    """(N, 3) float (start, end, pitch) in quarters -> (N, 3) int64 (start step, end step, pitch).

    Steps are 16th notes (4 per quarter), rounded to the nearest; a note shorter than half a step
    still lasts one step.
    """
    notes = np.asarray(notes, dtype=np.float64).reshape(-1, 3)
    start = np.floor(notes[:, 0] * STEPS_PER_QUARTER + 0.5).astype(np.int64)
    end = np.floor(notes[:, 1] * STEPS_PER_QUARTER + 0.5).astype(np.int64)
    return np.stack([start, np.maximum(end, start + 1), np.round(notes[:, 2]).astype(np.int64)], axis=1)


def skyline(steps: np.ndarray) -> np.ndarray:
    """(N, 3) int (start, end, pitch) -> (N,) bool: the notes the melody keeps (module docstring).

    The kept notes have distinct starts; each sounds until its end or the next kept start.
    """
    steps = np.asarray(steps, dtype=np.int64).reshape(-1, 3)
    keep = np.zeros(len(steps), dtype=bool)
    # By start, then highest pitch, then longest: the first note of each start is its top onset.
    order = np.lexsort((-steps[:, 1], -steps[:, 2], steps[:, 0]))
    current_pitch, current_end, last_start = -1, -1, None
    for i in order:
        start, end, pitch = steps[i]
        if start == last_start:
            continue
        last_start = start
        if current_end > start and current_pitch > pitch:
            continue
        keep[i] = True
        current_pitch, current_end = pitch, end
    return keep


def _in_range(notes: np.ndarray) -> np.ndarray:
    return notes[(notes[:, 2] >= LOWEST_PITCH) & (notes[:, 2] <= HIGHEST_PITCH)]


# ---------------------------------------------------------------------------------------------- MIDI

def _check_meter(path, numerator: int, denominator: int) -> None:
    if numerator < 1 or denominator < 1 or (numerator * 16) % denominator:
        raise MelodyInputError(path, f"time signature {numerator}/{denominator} does not fit the 16th-note grid",
                               kind="meter off the 16th-note grid")


def midi_bars(path, changes: list[tuple[float, int, int]], end: float) -> list[Bar]:
    """The bar grid from time signatures [(time in quarters, numerator, denominator)] up to `end`.

    See the module docstring: 4/4 until the first change, a new grid at every change, the bar a
    change interrupts is cut short, the grid covers `end` (at least one bar).
    """
    by_time: dict[float, tuple[int, int]] = {}
    for time, numerator, denominator in sorted(changes, key=lambda c: c[0]):
        _check_meter(path, numerator, denominator)
        by_time[round(time * STEPS_PER_QUARTER) / STEPS_PER_QUARTER] = (numerator, denominator)
    if not by_time or min(by_time) > 0:
        by_time[0.0] = (4, 4)
    times = sorted(t for t in by_time if t == 0 or t < end)
    bars: list[Bar] = []
    for i, time in enumerate(times):
        numerator, denominator = by_time[time]
        nominal = numerator * 4 / denominator
        stop = times[i + 1] if i + 1 < len(times) else None
        start = time
        while (start < stop - 1e-9) if stop is not None else (start < end - 1e-9 or start == time):
            length = nominal if stop is None else min(nominal, stop - start)
            bars.append(Bar(start, length, numerator, denominator))
            start += nominal
    return bars


def _note_quarters(pm, notes) -> np.ndarray:
    resolution = float(pm.resolution)
    return np.array([(pm.time_to_tick(n.start) / resolution, pm.time_to_tick(n.end) / resolution, n.pitch)
                     for n in notes], dtype=np.float64).reshape(-1, 3)


def choose_track(candidates: list[dict]) -> int:
    """Index (into `candidates`) of the melody track by the order in the module docstring.

    Each candidate: {"name": str, "program": int, "notes": (N, 3) float quarters}.
    """
    def key(i: int):
        c = candidates[i]
        steps = quantise(_in_range(c["notes"]))
        kept = skyline(steps)
        n_kept, n_total = int(kept.sum()), len(steps)
        mean_pitch = float(steps[kept, 2].mean()) if n_kept else 0.0
        bass = c["program"] in BASS_PROGRAMS or mean_pitch < BASS_MEAN_PITCH
        score = n_kept * n_kept / n_total if n_total else 0.0
        return (bool(MELODY_NAME.search(c["name"] or "")), not bass, score, mean_pitch)

    return max(range(len(candidates)), key=key)


def read_midi_notes(path: str | os.PathLike, track: int | None = None) -> NoteList:
    """The notes of the melody track of a MIDI file, and its bar grid (module docstring).

    `track`: index among the file's instruments (as pretty_midi lists them); None = choose.
    Raises MelodyInputError (a BadInputError) for unreadable files, files with no notes or only
    drums, a `track` that is missing, a drum track or empty, and meters off the 16th-note grid.
    """
    from audiogen.data.soundfonts import import_pretty_midi

    pretty_midi = import_pretty_midi()
    path = os.fspath(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pretty_midi warns about odd but readable files
            pm = pretty_midi.PrettyMIDI(path)
    except Exception as e:  # mido/pretty_midi raise many kinds (OSError, EOFError, ValueError, KeyError, ...)
        raise MelodyInputError(path, f"unreadable MIDI ({type(e).__name__}: {e})", kind="unreadable MIDI") from None
    instruments = pm.instruments
    if track is not None:
        if not 0 <= track < len(instruments):
            raise MelodyInputError(path, f"has no track {track} ({len(instruments)} instruments)",
                                   kind="no such --track")
        if instruments[track].is_drum:
            raise MelodyInputError(path, f"track {track} is a drum track", kind="--track is drums")
        chosen = track
        notes = _in_range(_note_quarters(pm, instruments[track].notes))
        if not len(notes):
            raise MelodyInputError(path, f"track {track} has no notes in MIDI {LOWEST_PITCH}-{HIGHEST_PITCH}",
                                   kind="no notes")
    else:
        pitched = [i for i, inst in enumerate(instruments) if not inst.is_drum]
        candidates = []
        for i in pitched:
            notes = _in_range(_note_quarters(pm, instruments[i].notes))
            if len(notes):
                candidates.append({"index": i, "name": instruments[i].name, "program": instruments[i].program,
                                   "notes": notes})
        if not candidates:
            pitched_notes = any(instruments[i].notes for i in pitched)
            if not pitched_notes and any(inst.notes for inst in instruments):
                raise MelodyInputError(path, "only drum tracks", kind="only drums")
            raise MelodyInputError(path, "no notes" if not pitched_notes else
                                   f"no notes in MIDI {LOWEST_PITCH}-{HIGHEST_PITCH}", kind="no notes")
        best = candidates[choose_track(candidates)]
        chosen, notes = best["index"], best["notes"]
    resolution = float(pm.resolution)
    changes = [(pm.time_to_tick(ts.time) / resolution, ts.numerator, ts.denominator)
               for ts in pm.time_signature_changes]
    bars = midi_bars(path, changes, float(notes[:, 1].max()))
    return NoteList(notes=notes, bars=bars, source=path, track=chosen, track_name=instruments[chosen].name or "")


# ----------------------------------------------------------------------------------------------- ABC

def abc_bars(tune, source: str) -> list[Bar]:
    """Bars (quarters) of a tune read by `notation.notes.read_tune`, between its bar lines, each with
    the meter in force at its closing line (4/4 where free; the last, unclosed bar: the meter at
    the end); a bar exactly k bars long becomes k bars (its bar lines were left out); two short
    bars in a row whose lengths add up to one bar (a part's last bar and the next part's pickup
    around ``||`` or ``:|``) become one bar. A tune without bar lines gets its meter's grid."""
    meters = {}
    for m in tune.markers:
        if m.kind == "bar":
            meters.setdefault(m.time, m.meter)
    lines = sorted(t for t in meters if 0 < t < tune.end)
    if not lines and tune.end not in meters:
        numerator, denominator = tune.end_meter or tune.meter or (4, 4)
        return midi_bars(source, [(0.0, numerator, denominator)], tune.quarters(tune.end))
    bars: list[Bar] = []
    for start, stop in zip([0, *lines], [*lines, tune.end]):
        numerator, denominator = meters.get(stop) or tune.end_meter or (4, 4)
        _check_meter(source, numerator, denominator)
        if stop > start:
            length, nominal = tune.quarters(stop - start), numerator * 4 / denominator
            whole = length / nominal
            # a bar of exactly k bars' length: bar lines left out (a line break with no "|")
            count = int(round(whole)) if whole >= 2 and abs(whole - round(whole)) < 1e-9 else 1
            for k in range(count):
                bars.append(Bar(tune.quarters(start) + k * length / count, length / count, numerator, denominator))
    return join_split_bars(bars)


def abc_note_list(rows, bars: list[Bar], source: str, title: str) -> NoteList:
    """A tune's NoteList from its (start, end, pitch) rows and bars (quarters): notes outside the
    piano's range dropped (MelodyInputError when none is left), a 4/4 grid where there are no
    bars, and a short first bar made a pickup (module docstring)."""
    notes = _in_range(np.array(rows, dtype=np.float64).reshape(-1, 3))
    if not len(notes):
        raise MelodyInputError(source, "no notes", kind="no notes")
    if not bars:
        bars = midi_bars(source, [], float(notes[:, 1].max()))
    first = bars[0]
    if first.length < first.nominal and len(bars) > 1:
        shift = first.nominal - first.length
        notes[:, :2] += shift
        bars = [Bar(0.0, first.nominal, first.numerator, first.denominator)] + [
            Bar(b.start + shift, b.length, b.numerator, b.denominator) for b in bars[1:]]
    return NoteList(notes=notes, bars=bars, source=source, title=title)


def join_split_bars(bars: list[Bar]) -> list[Bar]:
    """Two short bars in a row (not the first) whose lengths add up to one bar of their meter -> one bar."""
    merged: list[Bar] = []
    i = 0
    while i < len(bars):
        bar = bars[i]
        if (i > 0 and i + 1 < len(bars) and bar.length < bar.nominal
                and (bars[i + 1].numerator, bars[i + 1].denominator) == (bar.numerator, bar.denominator)
                and abs(bar.length + bars[i + 1].length - bar.nominal) < 1e-6):
            merged.append(Bar(bar.start, bar.nominal, bar.numerator, bar.denominator))
            i += 2
        else:
            merged.append(bar)
            i += 1
    return merged


def first_voice(text: str) -> str:
    """An ABC tune with only its first voice: `V:` sections of other voices and the `V:` lines go
    (the melody is the first voice). Tunes without `V:` come back unchanged.
    """
    lines = text.splitlines(keepends=True)
    voices = [ln[2:].strip().split()[0] for ln in lines if ln.startswith("V:") and ln[2:].strip()]
    if len(set(voices)) < 2:
        return text
    first, current, in_body, kept = voices[0], None, False, []
    for line in lines:
        if line.startswith("V:"):
            if in_body and line[2:].strip():  # header V: lines only declare voices
                current = line[2:].strip().split()[0]
            continue
        in_body = in_body or line.startswith("K:")
        if current is None or current == first:
            kept.append(line)
    return "".join(kept)


def read_abc_notes(text: str, source: str, *, expand_repeats: bool = False) -> NoteList:
    """The notes and bars of one ABC tune (its whole text, X: header first), read by our own ABC
    reader (`notation.notes`), as abc2midi plays them.

    Only the first voice of a multi-voice tune is read (see `first_voice`). `expand_repeats` plays
    repeats and first/second endings out as a player would (|: A :| -> A A; [1 and [2 in turn;
    a single-section `|: A :|` too). Grace notes are left out; tied notes are one note.
    `source` names the tune in messages (e.g. "tunes.abc:120"). Raises MelodyInputError when the
    tune has no notes.
    """
    from audiogen.notation.notes import played_out, read_tune

    tune = read_tune(first_voice(text))
    if expand_repeats:
        tune = played_out(tune)
    rows = [(tune.quarters(n.start), tune.quarters(n.start + n.length), n.pitch)
            for n in tune.notes if not n.grace and n.length > 0]
    return abc_note_list(rows, abc_bars(tune, source), source, tune.title)
