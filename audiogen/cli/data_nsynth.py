"""`audiogen data nsynth`: render an NSynth-format set from SoundFonts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import JsonOpt, QuietOpt, writable_dir
from audiogen.cli.output import emit_json, note, provenance, result_line


def nsynth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write examples.json and audio/ into.",
                                      show_default=False, callback=writable_dir)],
    soundfont: Annotated[Optional[Path], typer.Option("--soundfont", help="GM SoundFont (.sf2/.sf3); default: FluidR3_GM when installed, else pretty_midi's TimGM6mb.", show_default=False)] = None,
    programs: Annotated[str, typer.Option("--programs", help="GM programs, e.g. 0-7,24,40-47 (default: all pitched, 0-118).")] = "0-118",
    pitches: Annotated[str, typer.Option("--pitches", help="MIDI pitch range.")] = "24-84",
    velocities: Annotated[str, typer.Option("--velocities", help="MIDI velocities.")] = "25,50,75,100,127",
    force: Annotated[bool, typer.Option("--force", help="Replace an NSynth set already in --out.")] = False,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, help="Worker processes (default: the thread count (--threads), at most 4).", show_default=False)] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Render an NSynth-format set (16 kHz, 4 s notes, examples.json) from a General MIDI SoundFont.

    Family and source come from each GM program's group; silent renders are dropped and counted.

    Example: audiogen data nsynth --out nsynth-gm/ --programs 0,24,40,56,73 --pitches 36-84
    """
    from audiogen.data.nsynth_render import check_programs, render_nsynth
    from audiogen.data.ranges import parse_int_list, parse_int_range
    from audiogen.errors import require_file
    from audiogen.runtime.progress import make_progress

    program_list = check_programs(parse_int_list(programs, "--programs", 0, 127))
    low, high = parse_int_range(pitches, "--pitches", 0, 127)
    velocity_list = parse_int_list(velocities, "--velocities", 1, 127)
    if soundfont is not None:
        require_file(soundfont, "a SoundFont file (.sf2)")
    with make_progress(quiet=quiet or json_out, unit="notes") as progress:
        tasks = []  # the bar appears once the inputs are checked
        summary = render_nsynth(out, soundfont=soundfont, programs=program_list, pitches=range(low, high + 1),
                                velocities=velocity_list, force=force, jobs=jobs,
                                on_start=lambda n: tasks.append(progress.add_task("rendering", total=n)),
                                on_note=lambda: progress.advance(tasks[0]))
    if json_out:
        emit_json({**summary, **provenance("data nsynth", {"out": out, "soundfont": soundfont, "programs": programs,
                                                           "pitches": pitches, "velocities": velocities,
                                                           "force": force, "jobs": summary["jobs"]})})
        return
    families = ", ".join(f"{k} {v}" for k, v in sorted(summary["families"].items()))
    note(f"soundfont {summary['soundfont']}; families: {families}", quiet=quiet)
    result_line(f"wrote {summary['notes']} notes to {out} ({summary['silent_dropped']} silent renders dropped, "
                f"{summary['clipped']} clipped) in {summary['seconds']:.1f} s, "
                f"{summary['notes_per_second']:.0f} notes/s with {summary['jobs']} process{'es' if summary['jobs'] > 1 else ''}", json_mode=False)


def report_cache(summary: dict, *, quiet: bool = False) -> None:
    """What the filter removed (rule by rule) and which notes were resampled, on stderr."""
    from audiogen.data.nsynth import describe_removals
    from audiogen.data.skips import warn

    if summary.get("removed_by_filter") is not None and summary.get("examples") is not None:
        note(f"filter: {describe_removals(summary['examples'], summary['removed_by_filter'])}; "
             f"{summary['selected']} selected", quiet=quiet)
    if summary.get("resampled"):
        rates = ", ".join(f"{n} at {rate} Hz" for rate, n in summary.get("resampled_from", {}).items())
        warn(f"{summary['resampled']} notes were not 16 kHz and were resampled ({rates})")
