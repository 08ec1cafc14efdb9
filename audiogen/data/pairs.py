"""Paired renders for timbre translation: each melody played by two GM programs, note for note.

`build_pairs` reads melodies (MIDI files, ABC tunes), moves them into both instruments' ranges
where needed, and writes `DIR/a/NAME.wav` (+ `.mid`) with the first program and `DIR/b/NAME.wav`
(+ `.mid`) with the second, from the same notes, velocities and timing, rendered by FluidSynth at
16 kHz mono and peak-normalised by the same rule (`MidiRenderer`); both renders of a melody are
padded to the same length. `DIR/manifest.json` lists every pair. The folders are built in a
hidden staging folder inside DIR and moved into place at the end, manifest last, so a failed run
leaves the previous set (or nothing) rather than half of one.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audiogen.data.gm import GM_PROGRAMS
from audiogen.errors import AudiogenError, BadInputError

MANIFEST = "manifest.json"
STAGING_PREFIX = ".pairs-staging-"
SIDES = ("a", "b")

# Common names users type for GM programs (the full GM names work too, case-insensitively).
PROGRAM_ALIASES = {
    "piano": 0, "grand piano": 0, "electric piano": 4, "harpsichord": 6, "celesta": 8, "glockenspiel": 9,
    "vibraphone": 11, "marimba": 12, "xylophone": 13, "organ": 19, "church organ": 19, "accordion": 21,
    "harmonica": 22, "guitar": 24, "nylon guitar": 24, "steel guitar": 25, "electric guitar": 27,
    "bass": 32, "violin": 40, "viola": 41, "cello": 42, "contrabass": 43, "double bass": 43, "harp": 46,
    "strings": 48, "choir": 52, "trumpet": 56, "trombone": 57, "tuba": 58, "horn": 60, "french horn": 60,
    "soprano sax": 64, "alto sax": 65, "sax": 65, "saxophone": 65, "tenor sax": 66, "oboe": 68,
    "english horn": 69, "bassoon": 70, "clarinet": 71, "piccolo": 72, "flute": 73, "recorder": 74,
    "pan flute": 75, "whistle": 78, "ocarina": 79, "sitar": 104, "banjo": 105, "fiddle": 110, "bagpipe": 109,
}

# Playable ranges (MIDI pitches, written = sounding for these GM voices); others take 21-108.
PROGRAM_RANGES = {
    **{p: (21, 108) for p in range(0, 8)}, 24: (40, 88), 25: (40, 88), 32: (28, 67),
    40: (55, 100), 41: (48, 88), 42: (36, 76), 43: (28, 67), 46: (24, 103), 56: (54, 84), 57: (40, 72),
    58: (28, 58), 60: (34, 77), 64: (56, 88), 65: (49, 81), 66: (44, 76), 68: (58, 91), 69: (52, 81),
    70: (34, 75), 71: (50, 94), 72: (74, 108), 73: (60, 96), 74: (72, 98), 110: (55, 100),
}
FULL_RANGE = (21, 108)


def parse_program(text: str, option: str = "--from") -> int:
    """A GM program as typed: 0-127, a GM name ("Violin", "Acoustic Grand Piano") or a common
    name ("piano", "violin"); AudiogenError naming the option when it is none of these."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+", value):
        program = int(value)
        if 0 <= program <= 127:
            return program
        raise AudiogenError(f"{option} {text}: GM programs are 0-127")
    if value in PROGRAM_ALIASES:
        return PROGRAM_ALIASES[value]
    exact = [p.program for p in GM_PROGRAMS if p.name.lower() == value]
    if exact:
        return exact[0]
    partial = [p for p in GM_PROGRAMS if value and value in p.name.lower()]
    if len(partial) == 1:
        return partial[0].program
    hint = f" (matches {', '.join(p.name for p in partial[:5])})" if partial else ""
    raise AudiogenError(f"{option} {text!r}: not a GM program number or name{hint}; e.g. piano, violin, 0, 40")


def program_range(program: int) -> tuple[int, int]:
    return PROGRAM_RANGES.get(program, FULL_RANGE)


def fit_range(pitches: np.ndarray, low: int, high: int) -> tuple[np.ndarray, int, int]:
    """Move a melody into [low, high]: the whole of it by an octave shift, then each note still
    outside by octaves. The shift leaves the fewest notes outside, where each octave of shift
    counts as a quarter of the notes, so a few stray notes move alone rather than the tune by
    two octaves (the smaller shift on a tie).

    pitches: (N,) MIDI -> (moved pitches, octave shift in semitones, notes moved one by one).
    """
    pitches = np.asarray(pitches, dtype=np.int64)
    shifts = sorted(range(-48, 49, 12), key=abs)
    shift = min(shifts, key=lambda s: int(((pitches + s < low) | (pitches + s > high)).sum())
                + 0.25 * len(pitches) * abs(s) / 12)
    moved = pitches + shift
    alone = 0
    for i, p in enumerate(moved):
        q = int(p)
        while q < low:
            q += 12
        while q > high:
            q -= 12
        if not low <= q <= high:  # a range narrower than an octave: the nearest edge
            q = min(max(int(p), low), high)
        if q != p:
            moved[i], alone = q, alone + 1
    return moved, shift, alone


@dataclass
class PairMelody:
    """One melody to render: notes as rows of (start s, end s, MIDI pitch) at the chosen tempo."""

    name: str
    source: str
    notes: np.ndarray


def melody_seconds(note_list, bpm: float, max_seconds: float | None) -> np.ndarray:
    """A NoteList's (start, end, pitch) rows in quarter notes -> seconds at `bpm`, cut at max_seconds."""
    rows = np.asarray(note_list.notes, dtype=np.float64).copy()
    rows[:, :2] *= 60.0 / bpm
    if max_seconds is not None:
        rows = rows[rows[:, 0] < max_seconds]
        rows[:, 1] = np.minimum(rows[:, 1], max_seconds)
    return rows[rows[:, 1] > rows[:, 0]]


def read_pair_melodies(paths: Sequence[str | os.PathLike], *, bpm: float, max_seconds: float | None, skips,
                       skip: int = 0, limit: int | None = None,
                       on_item: Callable[[], None] | None = None) -> tuple[list[PairMelody], int]:
    """Melodies of MIDI files and ABC tunes (files or folders), in order; unusable ones go to
    `skips`. The first `skip` inputs (MIDI files, then ABC tunes) are left out unread, and
    reading stops once `limit` melodies are found. Returns the melodies and the number of inputs
    passed over or read (`--skip` that many for a set disjoint from this one)."""
    from audiogen.data.abc import read_abc, tune_stem
    from audiogen.data.drums import safe_name
    from audiogen.data.melody import find_melody_files
    from audiogen.data.midi_notes import MelodyInputError, read_abc_notes, read_midi_notes

    midi_files, abc_files = find_melody_files(paths)
    tunes = read_abc(abc_files, skips=skips) if abc_files else []
    melodies: list[PairMelody] = []
    used: set[str] = set()
    items = [("midi", p) for p in midi_files] + [("abc", t) for t in tunes]
    consumed = min(skip, len(items))
    for index, (kind, item) in enumerate(items[skip:], start=skip + 1):
        if limit is not None and len(melodies) >= limit:
            break
        consumed = index
        try:
            if kind == "midi":
                notes, source, stem = read_midi_notes(item), str(item), safe_name(Path(item).stem, "melody")
            else:
                source = f"{item.source}:{item.line}"
                notes = read_abc_notes(item.text, source, expand_repeats=True)
                stem = tune_stem(index, item.title)
        except MelodyInputError as e:
            skips.skip(e.path, e.problem, kind=e.kind)
        else:
            rows = melody_seconds(notes, bpm, max_seconds)
            if len(rows) == 0:
                skips.skip(source, "no notes", kind="no notes")
            else:
                name, n = stem, 2
                while name in used:
                    name, n = f"{stem}-{n}", n + 1
                used.add(name)
                melodies.append(PairMelody(name=name, source=source, notes=rows))
        if on_item is not None:
            on_item()
    return melodies, consumed


def write_melody_midi(path: Path, notes: np.ndarray, program: int, velocity: int, bpm: float) -> None:
    """A one-track MIDI file of (start s, end s, pitch) rows for `program`."""
    from audiogen.data.soundfonts import import_pretty_midi

    pretty_midi = import_pretty_midi()
    pm = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    instrument = pretty_midi.Instrument(program=program)
    for start, end, pitch in notes:
        instrument.notes.append(pretty_midi.Note(velocity=velocity, pitch=int(pitch), start=float(start),
                                                 end=float(end)))
    pm.instruments.append(instrument)
    pm.write(str(path))


@dataclass
class PairReport:
    pairs: int = 0
    notes: int = 0
    seconds: float = 0.0
    octave_shifted_melodies: int = 0
    notes_moved: int = 0             # notes whose pitch is not as written (octave shift or alone)
    notes_moved_alone: int = 0
    rows: list[dict] = field(default_factory=list)


def _check_out_dir(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise BadInputError(out, "exists and is not a folder")
    if out.is_dir() and not force:
        from audiogen.runtime.locks import FOLDER_LOCK

        if any(not p.name.startswith(STAGING_PREFIX) and p.name != FOLDER_LOCK for p in out.iterdir()):
            raise BadInputError(out, "folder is not empty; pass --force to replace the pairs in it "
                                     "(a/, b/ and manifest.json)")


def _publish(staging: Path, out: Path) -> None:
    """Move the staged a/ and b/ into `out`, replacing old ones, then the manifest last."""
    old_manifest = out / MANIFEST
    if old_manifest.exists():
        old_manifest.unlink()  # first: no manifest ever lists a half-replaced set
    for side in SIDES:
        target = out / side
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging / side, target)
    os.replace(staging / MANIFEST, old_manifest)
    staging.rmdir()


def build_pairs(melodies: Iterable[PairMelody], out: str | os.PathLike, *, program_a: int, program_b: int,
                soundfont: str | os.PathLike | None = None, bpm: float, velocity: int = 90,
                sample_rate: int = 16000, force: bool = False, skips=None, inputs: tuple[int, int] | None = None,
                on_item: Callable[[], None] | None = None) -> PairReport:
    """Render every melody with program_a into out/a and program_b into out/b (module docstring)."""
    import soundfile as sf

    from audiogen.data.soundfonts import MidiRenderer

    out = Path(out)
    _check_out_dir(out, force)
    melodies = list(melodies)
    if not melodies:
        raise AudiogenError("no melodies to render" + (f" ({len(skips)} inputs skipped)" if skips else ""))
    check_pair_programs(program_a, program_b)
    low = max(program_range(program_a)[0], program_range(program_b)[0])
    high = min(program_range(program_a)[1], program_range(program_b)[1])
    if low > high:
        raise AudiogenError(f"--from {GM_PROGRAMS[program_a].name} (MIDI {program_range(program_a)[0]}-"
                            f"{program_range(program_a)[1]}) and --to {GM_PROGRAMS[program_b].name} (MIDI "
                            f"{program_range(program_b)[0]}-{program_range(program_b)[1]}) share no range to play in")
    report = PairReport()
    renderer = MidiRenderer(soundfont, sample_rate=sample_rate)  # a bad SoundFont fails before any folder is made
    from audiogen.runtime.locks import hold_folder, release_folder

    from audiogen.runtime.atomic import remove_stale_temps, undo_folder

    made = next((p for p in reversed((out, *out.parents)) if not p.exists()), None)
    try:
        out.mkdir(parents=True, exist_ok=True)
        hold_folder(out, "writing pairs into it", " (or give another --out)")
    except BaseException:
        renderer.close()
        undo_folder(out, made, contents=False)  # the holder's folder: only empty folders we made go
        raise
    remove_stale_temps(out)
    for old in out.glob(f"{STAGING_PREFIX}*"):  # staging of a run killed mid-way (we hold the folder)
        shutil.rmtree(old, ignore_errors=True)
    staging = out / f"{STAGING_PREFIX}{secrets.token_hex(4)}"
    try:
        for side in SIDES:
            (staging / side).mkdir(parents=True)
        with renderer:
            for melody in melodies:
                pitches, shift, alone = fit_range(melody.notes[:, 2], low, high)
                notes = melody.notes.copy()
                notes[:, 2] = pitches
                waves = []
                for side, program in zip(SIDES, (program_a, program_b)):
                    midi_path = staging / side / f"{melody.name}.mid"
                    write_melody_midi(midi_path, notes, program, velocity, bpm)
                    waves.append(renderer.render_midi(midi_path))
                length = max(len(w) for w in waves)
                for side, wave in zip(SIDES, waves):
                    sf.write(str(staging / side / f"{melody.name}.wav"), np.pad(wave, (0, length - len(wave))),
                             sample_rate, subtype="PCM_16")
                moved = int((pitches != melody.notes[:, 2].astype(np.int64)).sum())
                report.pairs += 1
                report.notes += len(notes)
                report.seconds += length / sample_rate
                report.octave_shifted_melodies += int(shift != 0)
                report.notes_moved += moved
                report.notes_moved_alone += alone
                report.rows.append({"name": melody.name, "a": f"a/{melody.name}.wav", "b": f"b/{melody.name}.wav",
                                    "source": melody.source, "notes": len(notes), "seconds": round(length / sample_rate, 3),
                                    "octave_shift": shift, "notes_moved": moved})
                if on_item is not None:
                    on_item()
            manifest = {"program_a": program_a, "program_b": program_b,
                        "name_a": GM_PROGRAMS[program_a].name, "name_b": GM_PROGRAMS[program_b].name,
                        "soundfont": renderer.soundfont.name, "sample_rate": sample_rate, "bpm": bpm,
                        "velocity": velocity, "range": [low, high], "pairs": report.rows}
            if inputs is not None:  # (first input read, inputs read up to): the next set can --skip the second
                manifest["inputs"] = {"skip": inputs[0], "next_skip": inputs[1]}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        _publish(staging, out)
    except BaseException as e:
        from audiogen.runtime.atomic import write_failure

        shutil.rmtree(staging, ignore_errors=True)
        renderer.close()
        if made is not None:  # nothing of this run stays: the folders it made go too, under the lock
            undo_folder(out, made)
        release_folder(out)
        failure = write_failure(out, e) if isinstance(e, Exception) else None
        if failure is not None:
            raise failure from None
        raise
    release_folder(out)
    return report


def check_pair_programs(program_a: int, program_b: int) -> None:
    """AudiogenError naming --from/--to when a program is not a pitched GM instrument (an effect
    plays no melody)."""
    from audiogen.data.gm import PITCHED_PROGRAMS

    for flag, program in (("--from", program_a), ("--to", program_b)):
        if program not in PITCHED_PROGRAMS:
            name = f" ({GM_PROGRAMS[program].name})" if 0 <= program < len(GM_PROGRAMS) else ""
            raise AudiogenError(f"{flag} {program}{name}: not a pitched GM instrument, so it plays no melody; "
                                f"choose from 0-118 (119-127 are effects)")


def read_pairs_manifest(folder: str | os.PathLike) -> dict:
    """The manifest of a `data pairs` folder, with every listed file checked to exist."""
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BadInputError(folder, "no such folder (expected a `audiogen data pairs` output)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        rows = manifest["pairs"]
        assert isinstance(rows, list)
    except FileNotFoundError:
        raise BadInputError(folder, f"has no {MANIFEST}; make pairs with `audiogen data pairs`") from None
    except (OSError, ValueError, KeyError, TypeError, AssertionError):
        raise BadInputError(path, "not a pairs manifest (expected JSON with a \"pairs\" list)") from None
    for row in rows:
        for side in SIDES:
            if not isinstance(row, dict) or not (folder / str(row.get(side, ""))).is_file():
                raise BadInputError(path, f"lists a missing file: {row.get(side) if isinstance(row, dict) else row}")
    return manifest
