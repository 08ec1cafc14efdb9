"""Build an NSynth-format set from a General MIDI SoundFont (`audiogen data nsynth`).

Each note is rendered in-process with FluidSynth (the SoundFont loaded once): 16 kHz mono, 3 s held
+ 1 s release = 64000 samples, reverb and chorus off, written as 16-bit PCM `audio/<note_str>.wav`.
Labels follow NSynth's `examples.json` keys; family and source come from the GM program through
`audiogen.data.gm` (its docstring has the table). Naming: instrument = the GM program number,
instrument_str = `<family>_<source>_<program:03d>`, note_str = `<instrument_str>-<pitch:03d>-<velocity:03d>`
(NSynth's pattern); qualities are all 0 (they were labelled by listeners, not derivable here).
Extra keys `soundfont`, `program`, `program_name` say where a note came from; NSynth readers
ignore them.

A render whose peak stays below `SILENCE_PEAK` (a pitch outside the preset's key range) is dropped
and counted. `examples.json` is written last, atomically, so an interrupted run never looks complete.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from audiogen.data.gm import GM_PROGRAMS, PITCHED_PROGRAMS
from audiogen.data.nsynth import NSYNTH_SAMPLE_RATE, NSYNTH_SAMPLES, NSYNTH_VELOCITIES, QUALITIES
from audiogen.errors import AudiogenError, BadInputError

SILENCE_PEAK = 10 ** (-70 / 20)  # -70 dBFS: a few int16 steps, i.e. nothing audible
HOLD_SECONDS = 3.0
RELEASE_SECONDS = 1.0


def note_labels(program: int, pitch: int, velocity: int, note_id: int, soundfont: str) -> dict:
    """The examples.json entry of one rendered note."""
    gm = GM_PROGRAMS[program]
    if gm.family is None:
        raise AudiogenError(f"GM program {program} ({gm.name}) is not a pitched instrument")
    instrument_str = f"{gm.family}_{gm.source}_{program:03d}"
    return {
        "note": note_id,
        "note_str": f"{instrument_str}-{pitch:03d}-{velocity:03d}",
        "instrument": program,
        "instrument_str": instrument_str,
        "pitch": pitch,
        "velocity": velocity,
        "sample_rate": NSYNTH_SAMPLE_RATE,
        "instrument_family": gm.family_id,
        "instrument_family_str": gm.family,
        "instrument_source": gm.source_id,
        "instrument_source_str": gm.source,
        "qualities": [0] * len(QUALITIES),
        "qualities_str": [],
        "soundfont": soundfont,
        "program": program,
        "program_name": gm.name,
    }


def check_programs(programs: Sequence[int]) -> list[int]:
    """Sorted unique programs; AudiogenError for one that is not a pitched GM instrument."""
    unpitched = [p for p in programs if p not in PITCHED_PROGRAMS]
    if unpitched:
        names = ", ".join(f"{p} ({GM_PROGRAMS[p].name})" for p in unpitched[:3] if 0 <= p < 128)
        raise AudiogenError(f"--programs: {names or unpitched[0]} not a pitched GM instrument; "
                            f"choose from 0-118 (119-127 are effects)")
    return sorted(set(programs))


def _prepare_out_dir(out_dir: Path, force: bool) -> None:
    """Create out_dir/audio; refuse a folder holding a finished set unless `force` (then clear it)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInputError(out_dir, "exists and is not a directory")
    examples = out_dir / "examples.json"
    if examples.exists():
        if not force:
            raise BadInputError(out_dir, "already holds an NSynth set (examples.json); "
                                         "pass --force to replace it or choose another --out")
        try:
            old = json.loads(examples.read_text())
            for key in old if isinstance(old, dict) else ():
                (out_dir / "audio" / f"{key}.wav").unlink(missing_ok=True)
        except (OSError, ValueError):
            pass  # an unreadable old set: its files are overwritten where names match
        examples.unlink()
    try:
        (out_dir / "audio").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInputError(out_dir, f"cannot create the folder ({e.strerror})") from None


_renderer = None  # the NoteRenderer of this process (one per worker; the SoundFont loads once)


def _open_renderer(soundfont: str) -> None:
    global _renderer
    from audiogen.data.soundfonts import NoteRenderer

    _renderer = NoteRenderer(soundfont, sample_rate=NSYNTH_SAMPLE_RATE)


def _init_worker(soundfont: str) -> None:
    from audiogen.runtime.threads import ignore_sigint

    ignore_sigint()
    _open_renderer(soundfont)


def _render_unit(unit: tuple[int, int, tuple[int, ...], str, str]) -> list[tuple[int, int, int, float]]:
    """Render one (program, pitch) at every velocity and write the audible ones.

    Returns (program, pitch, velocity, peak) per note; silent notes are not written.
    """
    from audiogen.dsp.audio_io import save_audio

    program, pitch, velocities, audio_dir, soundfont_name = unit
    results = []
    for velocity in velocities:
        wave = _renderer.render(program, pitch, velocity, hold=HOLD_SECONDS, release=RELEASE_SECONDS)
        assert wave.shape == (NSYNTH_SAMPLES,), wave.shape
        peak = float(np.abs(wave).max())
        if peak >= SILENCE_PEAK:
            note_str = note_labels(program, pitch, velocity, 0, soundfont_name)["note_str"]
            save_audio(Path(audio_dir) / f"{note_str}.wav", wave, NSYNTH_SAMPLE_RATE, format="wav",
                       subtype="PCM_16")
        results.append((program, pitch, velocity, peak))
    return results


def render_nsynth(out_dir: str | os.PathLike, *, soundfont: str | os.PathLike | None = None,
                  programs: Sequence[int] = PITCHED_PROGRAMS, pitches: Sequence[int] = range(24, 85),
                  velocities: Sequence[int] = NSYNTH_VELOCITIES, force: bool = False, jobs: int | None = None,
                  on_start: Callable[[int], None] | None = None,
                  on_note: Callable[[], None] | None = None) -> dict:
    """Render every (program, pitch, velocity) into an NSynth folder; returns a summary dict.

    `jobs` worker processes (default: the CPU count, at most 4) each load the SoundFont once.
    Summary: notes written, silent renders dropped (with their (program, pitch, velocity)), clipped
    renders kept, seconds, notes/s, counts per family and source, the SoundFont used.
    `on_start(total)`, called once the inputs are checked, and `on_note()`, once per rendered
    note, drive a progress bar. Labels and note ids do not depend on `jobs`.
    """
    import multiprocessing

    from audiogen.data.soundfonts import default_soundfont
    from audiogen.runtime.atomic import atomic_write_text

    out_dir = Path(out_dir)
    programs = check_programs(programs)
    soundfont = Path(soundfont) if soundfont else default_soundfont()
    start = time.perf_counter()
    _open_renderer(str(soundfont))  # checks FluidSynth and the SoundFont here, before anything is written
    from audiogen.runtime.locks import hold_folder, release_folder

    made = next((p for p in reversed((out_dir, *out_dir.parents)) if not p.exists()), None)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        hold_folder(out_dir, "writing an NSynth set into it", " (or give another --out)")
        _prepare_out_dir(out_dir, force)
    except BaseException as e:
        from audiogen.runtime.atomic import undo_folder
        from audiogen.runtime.locks import LockRefused

        _renderer.close()
        # refused: the holder's folder (only empty folders we made may go); else ours to undo
        undo_folder(out_dir, made, contents=not isinstance(e, LockRefused) and made is not None)
        if not isinstance(e, LockRefused):
            release_folder(out_dir)
        raise
    kept = {p.name for p in (out_dir / "audio").iterdir()}  # a set killed earlier: its notes are overwritten
    try:
        return _render_into(out_dir, units_of=(programs, pitches, velocities), soundfont=soundfont, jobs=jobs,
                            on_start=on_start, on_note=on_note, start=start)
    except BaseException:
        # failed or interrupted (SIGTERM, Ctrl-C): no half set stays behind, only what was there before
        from audiogen.runtime.atomic import undo_folder

        for path in (out_dir / "audio").iterdir():
            if path.name not in kept:
                path.unlink(missing_ok=True)
        if made is not None:
            undo_folder(out_dir, made)  # under the lock, let go of just after
        raise
    finally:
        release_folder(out_dir)


def _render_into(out_dir: Path, *, units_of, soundfont: Path, jobs, on_start, on_note, start: float) -> dict:
    """The rendering of `render_nsynth` into a prepared, locked `out_dir`."""
    import multiprocessing

    from audiogen.runtime.atomic import atomic_write_text

    programs, pitches, velocities = units_of
    units = [(program, pitch, tuple(velocities), str(out_dir / "audio"), soundfont.name)
             for program in programs for pitch in pitches]
    if jobs is None:  # worker start-up (~2 s) only pays off on a few hundred notes
        from audiogen.runtime.threads import threads_in_use

        jobs = min(threads_in_use(), 4) if len(units) * len(velocities) >= 300 else 1
    jobs = max(1, min(jobs, len(units)))
    if on_start:
        on_start(len(units) * len(velocities))
    results: list[tuple[int, int, int, float]] = []
    pool = None
    finished = False
    try:
        if jobs == 1:
            unit_results = map(_render_unit, units)
        else:
            _renderer.close()  # each worker loads its own
            # spawn, not fork: forking beside the progress bar's thread and a loaded synth can deadlock
            context = multiprocessing.get_context("spawn")
            pool = context.Pool(jobs, initializer=_init_worker, initargs=(str(soundfont),))
            unit_results = pool.imap(_render_unit, units)
        for unit_result in unit_results:
            results.extend(unit_result)
            if on_note:
                for _ in unit_result:
                    on_note()
        finished = True
    finally:
        _renderer.close()
        if pool is not None:
            pool.terminate()
            if not finished:  # workers killed mid-write leave their temp files: remove them
                for leftover in (out_dir / "audio").glob(".*.wav.tmp-*"):
                    leftover.unlink(missing_ok=True)

    examples: dict[str, dict] = {}
    silent = []
    clipped = 0
    for program, pitch, velocity, peak in results:
        if peak < SILENCE_PEAK:
            silent.append((program, pitch, velocity))
            continue
        clipped += peak >= 32767 / 32768
        labels = note_labels(program, pitch, velocity, len(examples), soundfont.name)
        examples[labels["note_str"]] = labels
    if not examples:
        raise AudiogenError(f"{soundfont}: every note rendered silent; is it a General MIDI SoundFont?")
    atomic_write_text(out_dir / "examples.json", json.dumps(examples, indent=1) + "\n")
    seconds = time.perf_counter() - start
    return {
        "out_dir": str(out_dir),
        "soundfont": str(soundfont),
        "notes": len(examples),
        "silent_dropped": len(silent),
        "silent": [list(t) for t in silent],
        "clipped": int(clipped),
        "seconds": round(seconds, 2),
        "notes_per_second": round(len(results) / seconds, 1) if seconds > 0 else None,
        "jobs": jobs,
        "families": dict(Counter(e["instrument_family_str"] for e in examples.values())),
        "sources": dict(Counter(e["instrument_source_str"] for e in examples.values())),
        "programs": len(programs),
        "pitches": [min(pitches), max(pitches)],
        "velocities": list(velocities),
    }
