"""`audiogen data pairs`: the same melodies rendered by two instruments, for `train translate`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import shared_options, writable_dir
from audiogen.cli.output import emit_json, note, provenance, result_line


@shared_options("strict", "json_out", "quiet")
def pairs(
    melodies: Annotated[list[Path], typer.Option("--melodies", help="A .mid/.midi/.abc file or a folder of them "
                                                 "(searched recursively); repeatable. ABC repeats are played out.",
                                                 show_default=False, metavar="FILE|DIR")],
    program_from: Annotated[str, typer.Option("--from", help="GM program of the a/ renders: 0-127 or a name "
                                              "(piano, violin, \"Acoustic Guitar (nylon)\").")] = "piano",
    program_to: Annotated[str, typer.Option("--to", help="GM program of the b/ renders.")] = "violin",
    out: Annotated[Path, typer.Option("--out", "-o", help="Pairs folder: a/, b/ (NAME.wav + NAME.mid) and "
                                      "manifest.json.", show_default=False, callback=writable_dir)] = Path("pairs"),
    soundfont: Annotated[Optional[Path], typer.Option("--soundfont", help="SoundFont (.sf2/.sf3) to render with "
                                                      "(default: FluidR3_GM when installed).", show_default=False)] = None,
    bpm: Annotated[float, typer.Option("--bpm", min=30.0, max=300.0, help="Tempo in quarter notes per minute.")] = 100.0,
    velocity: Annotated[int, typer.Option("--velocity", min=1, max=127, help="MIDI velocity of every note.")] = 90,
    max_seconds: Annotated[float, typer.Option("--max-seconds", min=1.0, help="Cut each melody after this many "
                                               "seconds (0 notes after it).")] = 20.0,
    skip: Annotated[int, typer.Option("--skip", min=0, help="Leave out the first N inputs (MIDI files, then "
                                      "ABC tunes in order), e.g. those another pairs folder was made from.")] = 0,
    limit: Annotated[Optional[int], typer.Option("--limit", min=1, help="Render at most N melodies.",
                                                 show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the pairs in a non-empty --out folder.")] = False,
    *, strict, json_out, quiet,
) -> None:
    """Render each melody twice through FluidSynth, with --from into OUT/a/ and --to into OUT/b/.

    Both renders have the same notes, velocities and timing (the MIDI files sit beside the WAVs),
    16 kHz mono, peak-normalised alike and padded to the same length. Melodies are moved by
    octaves into the range both instruments play (violin: G3-E7); the notes moved are counted.

    Example: audiogen data pairs --melodies tunes.abc --from piano --to violin --out pairs/ --limit 200
    """
    from audiogen.data.melody import find_melody_files
    from audiogen.data.pairs import build_pairs, parse_program, read_pair_melodies
    from audiogen.data.skips import SkipLog
    from audiogen.data.soundfonts import default_soundfont
    from audiogen.runtime.progress import make_progress

    program_a = parse_program(program_from, "--from")
    program_b = parse_program(program_to, "--to")
    from audiogen.data.pairs import check_pair_programs

    check_pair_programs(program_a, program_b)
    if soundfont is not None and not soundfont.is_file():
        from audiogen.data.soundfonts import missing_soundfont

        raise missing_soundfont(soundfont)
    soundfont = soundfont or default_soundfont()
    find_melody_files(melodies)  # a missing or wrong file fails here, before any progress bar
    began = time.perf_counter()
    skips = SkipLog(strict=strict)
    with make_progress(quiet=quiet or json_out, unit="melody") as progress:
        task = progress.add_task("read melodies", total=None)
        chosen, consumed = read_pair_melodies(melodies, bpm=bpm, max_seconds=max_seconds, skips=skips, skip=skip,
                                              limit=limit, on_item=lambda: progress.advance(task))
        task = progress.add_task("render pairs", total=len(chosen))
        report = build_pairs(chosen, out, program_a=program_a, program_b=program_b, soundfont=soundfont, bpm=bpm,
                             velocity=velocity, force=force, skips=skips, inputs=(skip, consumed),
                             on_item=lambda: progress.advance(task))
    seconds = time.perf_counter() - began
    summary = {"out": str(out), "pairs": report.pairs, "program_a": program_a, "program_b": program_b,
               "soundfont": str(soundfont), "notes": report.notes, "audio_seconds": round(report.seconds, 1),
               "octave_shifted_melodies": report.octave_shifted_melodies, "notes_moved": report.notes_moved,
               "notes_moved_alone": report.notes_moved_alone, "next_skip": consumed,
               "skipped": skips.to_dict(), "seconds": round(seconds, 1)}
    if json_out:
        emit_json({**summary, **provenance("data pairs", {
            "melodies": [str(p) for p in melodies], "from": program_from, "to": program_to, "out": out,
            "soundfont": soundfont, "bpm": bpm, "velocity": velocity, "max_seconds": max_seconds, "skip": skip,
            "limit": limit, "force": force, "strict": strict})})
    note(f"{report.notes_moved} of {report.notes} notes moved into the range both play "
         f"({report.octave_shifted_melodies} melodies shifted by octaves, {report.notes_moved_alone} notes alone); "
         f"{len(skips)} inputs skipped", quiet=quiet or json_out)
    note(f"inputs {skip + 1}-{consumed} were read; --skip {consumed} makes a set with none of these melodies",
         quiet=quiet or json_out)
    result_line(f"wrote {report.pairs} pair{'s' if report.pairs != 1 else ''} ({report.seconds / 60:.1f} min each side) to {out}: "
                f"a/ program {program_a}, b/ program {program_b}, {Path(soundfont).name}; {seconds:.1f} s",
                json_mode=json_out)
