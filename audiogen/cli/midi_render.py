"""`audiogen render midi`: a MIDI file played through FluidSynth with a SoundFont (a General MIDI
font, or an instrument from `audiogen export gansynth`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import SampleRateOpt, shared_options, writable_file
from audiogen.cli.output import emit_json, note, provenance, result_line, write_clip


@shared_options("subtype", "gain", "json_out", "quiet")
def render_midi_command(
    midi: Annotated[Path, typer.Argument(help="MIDI file to play.", show_default=False, metavar="SONG.mid")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output audio file.", show_default=False,
                                      callback=writable_file)],
    soundfont: Annotated[Optional[Path], typer.Option(
        "--soundfont", help="SoundFont (.sf2/.sf3) to play it with (default: $AUDIOGEN_SOUNDFONT, else FluidR3_GM, "
        "else another GM font).", show_default=False)] = None,
    program: Annotated[Optional[int], typer.Option(
        "--program", min=0, max=127, help="Play every pitched part with this program (0 for an exported "
        "instrument; default: each part's own).", show_default=False)] = None,
    sample_rate: SampleRateOpt = 16000,
    *, subtype, gain, json_out, quiet,
) -> None:
    """Play a MIDI file with a SoundFont through FluidSynth (reverb and chorus off), mono.

    Example: audiogen render midi tune.mid --soundfont flute.sf2 --program 0 --out tune-flute.wav
    """
    from audiogen.data.soundfonts import MidiRenderer
    from audiogen.gansynth.render import read_played_notes

    notes, _ = read_played_notes(midi)  # one line for a file that is no MIDI, or holds no notes
    with MidiRenderer(soundfont, sample_rate=sample_rate) as synth:
        used = synth.soundfont
        wave = synth.render_midi(midi, program=program)
    write_clip(out, wave, sample_rate, None, None, subtype, gain)
    if json_out:
        emit_json({"out": str(out), "notes": len(notes), "seconds": round(len(wave) / sample_rate, 3),
                   "soundfont": str(used), **provenance("render midi", {"midi": midi, "out": out, "soundfont": soundfont,
                                                                        "program": program, "sample_rate": sample_rate})})
    result_line(f"{midi} -> {out}: {len(notes)} notes, {len(wave) / sample_rate:.1f} s with {used.name}",
                json_mode=json_out)
    note(f"SoundFont {used}", quiet=quiet or json_out)
