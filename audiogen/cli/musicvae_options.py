"""Options shared by the MusicVAE commands that write melodies (MIDI, and WAV through FluidSynth)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import writable_dir

MusicVAEModelOpt = Annotated[Optional[Path], typer.Option(
    "--model", help="MusicVAE model file or bundled name (musicvae-2bar, the default, or musicvae-16bar).", show_default=False)]
OutDirOpt = Annotated[Path, typer.Option("--out-dir", help="Folder for the MIDI (+ WAV) files.", show_default=False, callback=writable_dir)]
TrackOpt = Annotated[Optional[int], typer.Option("--track", min=0, help="MIDI instrument index to read from input "
                                                 "files (default: the melody track is chosen per file).",
                                                 show_default=False)]
WavOpt = Annotated[bool, typer.Option("--wav", help="Also render each MIDI file to a WAV with FluidSynth.")]
SoundfontOpt = Annotated[Optional[Path], typer.Option(
    "--soundfont", help="SoundFont for --wav (default: $AUDIOGEN_SOUNDFONT, else FluidR3_GM, else another GM font).",
    show_default=False)]
BpmOpt = Annotated[float, typer.Option("--bpm", min=20.0, max=400.0, help="Tempo of the MIDI files, quarter notes a minute.")]
ProgramOpt = Annotated[int, typer.Option("--program", min=0, max=127, help="General MIDI program of the melody (0: piano).")]
PriorOpt = Annotated[str, typer.Option(
    "--prior", help="Where latent codes come from: fitted (the Gaussian of the training codes stored in the model; "
    "N(0, I) for a model without one) or standard (N(0, I), as in the MusicVAE paper).", metavar="fitted|standard")]
RepeatsOpt = Annotated[bool, typer.Option(
    "--repeats/--no-repeats", help="Give each new melody the bar form of a training tune (which bars repeat which), "
    "as stored in the model: a repeated bar is played again step for step (hierarchical models fitted with forms).")]
TemperatureOpt = Annotated[float, typer.Option("--temperature", min=0.0, help="Decoder softmax temperature; 0 is greedy (argmax).")]


def writer_for(out_dir: Path, *, bpm: float, program: int, meter: str | None, wav: bool, soundfont: Path | None,
               sample_rate: int, command: str, meters: dict[str, int] | None = None, gain_db: float = 0.0,
               force: bool = False):
    from audiogen.musicvae.output import MelodyWriter

    return MelodyWriter(out_dir, bpm=bpm, program=program, meter=meter, wav=wav, soundfont=soundfont,
                        sample_rate=sample_rate, command=command, meters=meters, gain_db=gain_db, force=force)
