"""ABC tunes -> MIDI files (abc2midi, else our own reader) -> WAV (FluidSynth, the SoundFont loaded once).

Each tune becomes `NNN-title.mid` (+ `.wav`): NNN is its position among the tunes read (1-based,
zero-padded to at least 3 digits; X: numbers may repeat), the title is sanitised for file names.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from audiogen.abc.evaluate import resolve_converter
from audiogen.abc.validate import abc2midi_midi, count_midi_notes, load_pretty_midi
from audiogen.data.abc import AbcTune, tune_stem
from audiogen.data.midi_edit import set_tempo_and_program
from audiogen.data.skips import SkipLog
from audiogen.data.soundfonts import MidiRenderer
from audiogen.errors import BadInputError
from audiogen.runtime.output_sets import OutputSet

DEFAULT_QPM = 120.0  # quarter notes a minute for a tune without Q:, as abc2midi plays it


def tune_to_midi(text: str, out_path: str | os.PathLike, converter: str) -> tuple[bool, str]:
    """Write one tune as a MIDI file (atomically) with "abc2midi" or "audiogen" (our reader); (ok, message)."""
    if converter == "abc2midi":
        return abc2midi_midi(text, Path(out_path))
    return write_tune_midi(text, out_path)


def write_tune_midi(text: str, out_path: str | os.PathLike) -> tuple[bool, str]:
    """One tune read by `notation.notes` (first voice, repeats and endings played out, grace notes
    left out) as a one-track piano MIDI file at its Q: tempo (else 120 a minute), written
    atomically; (ok, message)."""
    from audiogen.data.midi_notes import first_voice
    from audiogen.notation.notes import played_out, read_tune
    from audiogen.runtime.atomic import atomic_output

    pretty_midi = load_pretty_midi()
    tune = played_out(read_tune(first_voice(text)))
    notes = [n for n in tune.notes if not n.grace and n.length > 0 and 0 <= n.pitch <= 127]
    if not notes:
        return False, "no notes"
    seconds_per_quarter = 60.0 / (tune.tempo_qpm or DEFAULT_QPM)
    midi = pretty_midi.PrettyMIDI(initial_tempo=60.0 / seconds_per_quarter)
    piano = pretty_midi.Instrument(program=0, name=tune.title[:60])
    for n in notes:
        start = tune.quarters(n.start) * seconds_per_quarter
        piano.notes.append(pretty_midi.Note(velocity=n.velocity, pitch=n.pitch, start=start,
                                            end=start + tune.quarters(n.length) * seconds_per_quarter))
    midi.instruments.append(piano)
    if tune.meter is not None and _midi_meter(*tune.meter):
        midi.time_signature_changes.append(pretty_midi.TimeSignature(tune.meter[0], tune.meter[1], 0.0))
    try:
        with atomic_output(out_path) as tmp:
            midi.write(str(tmp))
    except (ValueError, OverflowError) as e:  # a note or tempo MIDI cannot hold
        return False, f"cannot be written as MIDI ({e})"
    return True, "converted"


def _midi_meter(numerator: int, denominator: int) -> bool:
    """Whether a MIDI time signature can hold this meter (a power-of-2 denominator, numbers < 256)."""
    return 0 < numerator < 256 and 0 < denominator < 256 and denominator & (denominator - 1) == 0


def render_tunes(tunes: Sequence[AbcTune], out_dir: str | os.PathLike, *, wav: bool = False,
                 sample_rate: int = 22050, soundfont: str | os.PathLike | None = None, converter: str = "auto",
                 skips: SkipLog, on_start: Callable[[int], None] | None = None,
                 on_done: Callable[[], None] | None = None, bpm: float | None = None,
                 program: int | None = None, gain_db: float = 0.0, force: bool = False) -> dict:
    """Write each tune as MIDI (and WAV) into `out_dir`; returns a summary dict. `force` lets the set
    replace files another command wrote there (`runtime.output_sets`).

    `bpm` (quarter notes a minute) replaces the tunes' own tempo (Q:, else the converter's
    default), `program` the GM instrument (piano); WAVs peak at the tool's output level plus
    `gain_db` (`audiogen.dsp.loudness`).

    A tune that does not convert, or converts to a MIDI file without notes, is skipped through
    `skips` (a warning naming the tune and its file; fatal with strict). `on_start(total)` is
    called once the inputs are checked (and the SoundFont loaded), `on_done()` once per tune.
    """
    converter = resolve_converter(converter)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise BadInputError(out_dir, "is a file; expected a folder for the tunes")
    synth = MidiRenderer(soundfont, sample_rate) if wav else None
    if wav:
        from audiogen.dsp import save_audio  # imports torch (seconds): only when needed
        from audiogen.dsp.loudness import output_peak_dbfs
    if on_start:
        on_start(len(tunes))
    width = max(3, len(str(len(tunes))))
    written: list[dict] = []
    start = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = OutputSet(out_dir, "render abc", force=force)
    try:
        for index, tune in enumerate(tunes, 1):
            where = f"{tune.source}: tune {index} (X:{tune.number}, line {tune.line})"
            midi_path = out_dir / (tune_stem(index, tune.title, width) + ".mid")
            staged = outputs.stage(midi_path)
            ok, message = tune_to_midi(tune.text, staged, converter)
            notes = count_midi_notes(staged) if ok else None
            if ok and not notes:
                staged.unlink(missing_ok=True)
                ok, message = False, f"{converter} wrote a MIDI file without notes"
            if ok and (bpm is not None or program is not None):
                set_tempo_and_program(staged, bpm=bpm, program=program)
            if not ok:
                skips.skip(where, message, kind=re.split(r"[:(]", message)[0].strip())
            else:
                entry = {"index": index, "number": tune.number, "title": tune.title, "source": tune.source,
                         "midi": str(midi_path), "notes": notes, "converted": message, "wav": None, "seconds": None}
                if synth is not None:
                    try:
                        wave = synth.render_midi(staged)
                    except Exception as e:  # pretty_midi on an odd MIDI file, or nothing rendered
                        skips.skip(where, f"MIDI written, but no WAV: {e}", kind="no WAV")
                    else:
                        save_audio(outputs.stage(midi_path.with_suffix(".wav")), wave, sample_rate,
                                   peak_dbfs=output_peak_dbfs(gain_db))
                        entry["wav"] = str(midi_path.with_suffix(".wav"))
                        entry["seconds"] = round(wave.shape[0] / sample_rate, 2)
                written.append(entry)
            if on_done:
                on_done()
    except BaseException as e:
        reworded = outputs.fail(e)
        if reworded is not None:
            raise reworded from None
        raise
    finally:
        if synth is not None:
            synth.close()
    outputs.commit()
    return {"out_dir": str(out_dir), "tunes": len(tunes), "midi": len(written),
            "wav": sum(1 for e in written if e["wav"]) if wav else None, "failed": len(tunes) - len(written),
            "converter": converter, "soundfont": str(synth.soundfont) if synth else None,
            "sample_rate": sample_rate if wav else None, "seconds": round(time.perf_counter() - start, 2),
            "files": written}
