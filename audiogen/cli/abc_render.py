"""`audiogen render abc`: ABC tunes to MIDI files, and to WAV through FluidSynth."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import ForceOutputsOpt, GainOpt, JsonOpt, QuietOpt, SampleRateOpt, writable_dir
from audiogen.cli.output import emit_json, note, provenance, result_line


class Converter(str, Enum):
    auto = "auto"
    abc2midi = "abc2midi"
    audiogen = "audiogen"


ConverterOpt = Annotated[Converter, typer.Option(
    "--converter", help="ABC to MIDI: abc2midi (Debian abcmidi), audiogen (our own ABC reader), or auto "
    "(abc2midi when installed).")]


def read_tunes(paths: list[Path], *, strict: bool = False, quiet: bool = False):
    """(tunes, SkipLog) from ABC files/folders. No tunes at all: one error line naming the (first)
    bad file, exit 2. Otherwise each skipped file gets a warning."""
    from audiogen.data.abc import read_abc
    from audiogen.data.skips import MAX_WARNINGS, SkipLog, warn
    from audiogen.errors import AudiogenError, BadInputError, require_file

    for path in paths:
        if not path.is_dir():
            require_file(path, "an ABC file or a folder of .abc files")
    # Warnings wait until we know some tunes were read: with none, the error line says it all.
    skips = SkipLog(strict=strict, warn=False)
    tunes = read_abc(paths, skips=skips)
    if not tunes:
        if skips.skipped:
            path, problem = skips.skipped[0]
            more = f" (and {len(skips) - 1} more files skipped)" if len(skips) > 1 else ""
            raise BadInputError(path, problem + more)
        raise AudiogenError(f"no ABC tunes in {', '.join(map(str, paths))}")
    if not quiet:
        for path, problem in skips.skipped[:MAX_WARNINGS]:
            warn(f"skipped {path}: {problem}")
        if len(skips) > MAX_WARNINGS:
            warn("more files skipped; the summary counts them all")
    skips.warn = not quiet  # later skips (tunes that fail) warn as they happen
    return tunes, skips


def render_abc_command(
    file: Annotated[Path, typer.Argument(help="ABC file (or a folder of .abc files).", show_default=False,
                                         metavar="FILE")],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for NNN-title.mid (+ .wav) files.",
                                          show_default=False, callback=writable_dir)],
    wav: Annotated[bool, typer.Option("--wav", help="Also render each MIDI file to a 16-bit WAV with FluidSynth.")] = False,
    sample_rate: SampleRateOpt = 22050,
    soundfont: Annotated[Optional[Path], typer.Option(
        "--soundfont", help="SoundFont for --wav (default: $AUDIOGEN_SOUNDFONT, else FluidR3_GM, else another GM font).",
        show_default=False)] = None,
    converter: ConverterOpt = Converter.auto,
    bpm: Annotated[Optional[float], typer.Option(
        "--bpm", min=20.0, max=400.0, help="Tempo, quarter notes a minute (default: each tune's Q:, else 120).",
        show_default=False)] = None,
    program: Annotated[Optional[int], typer.Option(
        "--program", min=0, max=127, help="General MIDI program for every tune (default: with abc2midi the tune's own %%MIDI program, else 0, piano).",
        show_default=False)] = None,
    gain: GainOpt = 0.0,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first tune that does not convert.")] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
    force: ForceOutputsOpt = False,
) -> None:
    """Turn each ABC tune into a MIDI file (abc2midi, else our own reader), and with --wav into audio.

    Tunes that do not convert (or convert to no notes) are skipped with a warning naming the tune and its file; --strict makes the first one fatal.

    Example: audiogen render abc tunes.abc --out-dir tunes/ --wav
    """
    from audiogen.abc.render import render_tunes
    from audiogen.runtime.progress import make_progress

    tunes, skips = read_tunes([file], strict=strict, quiet=quiet)
    with make_progress(quiet=quiet or json_out, unit="tune") as progress:
        tasks = []  # added once the inputs are checked, so an early error leaves no bar behind
        summary = render_tunes(
            tunes, out_dir, wav=wav, sample_rate=sample_rate, soundfont=soundfont, converter=converter.value,
            bpm=bpm, program=program, gain_db=gain, force=force, skips=skips, on_start=lambda n: tasks.append(progress.add_task("rendering" if wav else "converting", total=n)),
            on_done=lambda: progress.advance(tasks[0]))
    if json_out:
        emit_json({**summary, "skipped": skips.to_dict(),
                   **provenance("render abc", {"file": file, "out_dir": out_dir, "wav": wav,
                                               "sample_rate": sample_rate, "soundfont": soundfont,
                                               "converter": converter, "bpm": bpm, "program": program,
                                               "gain": gain, "strict": strict})})
    audio = f", {summary['wav']} WAV files at {sample_rate} Hz" if wav else ""
    result_line(f"wrote {summary['midi']} of {summary['tunes']} tunes to {out_dir} as MIDI "
                f"({summary['converter']}){audio}; {summary['failed']} failed", json_mode=json_out)
    if wav:
        note(f"SoundFont {summary['soundfont']}", quiet=quiet or json_out)
