"""`audiogen data melodies`: monophonic melody windows for MusicVAE from MIDI files and ABC tunes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import numpy as np
import typer

from audiogen.cli.options import JsonOpt, OutFile, QuietOpt, parse_transpose
from audiogen.cli.output import emit_json, note, provenance, result_line


def melodies(
    data: Annotated[list[Path], typer.Option("--data", help="A .mid/.midi/.abc file or a folder of them (searched "
                                                            "recursively); repeatable.", show_default=False)],
    out: OutFile,
    bars: Annotated[int, typer.Option("--bars", min=1, max=64, help="Segments of 16 steps per window: 2 for the "
                                                                    "2-bar model, 16 for the 16-bar model.")] = 2,
    hop_bars: Annotated[Optional[int], typer.Option("--hop-bars", min=1, help="Bars between window starts "
                                                    "(default: 1 for --bars 2, else bars/2).",
                                                    show_default=False)] = None,
    transpose: Annotated[str, typer.Option("--transpose", help="Augment: every window shifted by each of LOW..HIGH "
                                           "semitones (0 = as written), e.g. -5..6; windows leaving MIDI "
                                           "21-108 are dropped. 'none': as written only.")] = "none",
    track: Annotated[Optional[int], typer.Option("--track", min=0, help="MIDI instrument index to read "
                                                 "(default: the melody track is chosen per file).",
                                                 show_default=False)] = None,
    expand_repeats: Annotated[bool, typer.Option("--expand-repeats", help="Play ABC repeats and first/second "
                                                 "endings out (|: A :| -> A A), as abc2midi does; more and longer "
                                                 "windows (MIDI files are played out already).")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first unusable file instead of "
                                                          "skipping it.")] = False,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1, max=64, help="Worker processes (default: "
                                                "the thread count (--threads), at most 4, from 200 MIDI files on; ABC reads fastest in one).",
                                                show_default=False)] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Extract monophonic melodies from MIDI files and ABC tunes and cut them into MusicVAE windows (.npz).

    16th-note steps; where notes overlap the highest is kept; drum tracks are never read.

    Each bar is one or more 16-step segments (3/4, 6/8: 12 steps + 4 padding), so every meter is kept.

    Windows start at bar lines; mostly silent ones are dropped. Unusable files: a warning (--strict: fatal).

    Example: audiogen data melodies --data tunes/ --out melodies.npz --bars 2 --transpose -5..6

    Example: audiogen data melodies --data tunes.abc --out tunes-16bar.npz --bars 16 --hop-bars 1 --expand-repeats
    """
    from audiogen.data.melody import collect_windows, save_windows
    from audiogen.data.skips import SkipLog
    from audiogen.errors import AudiogenError
    from audiogen.runtime.progress import make_progress

    if out.suffix.lower() != ".npz":
        from audiogen.errors import BadInputError

        raise BadInputError(out, "a window set is written as .npz (numpy's archive), e.g. --out melodies.npz")
    shift_range = parse_transpose(transpose)
    hop = hop_bars if hop_bars is not None else (1 if bars <= 2 else bars // 2)
    began = time.perf_counter()
    skips = SkipLog(strict=strict)
    with make_progress(quiet=quiet, unit="file") as progress:
        tasks = []
        collector, counts = collect_windows(
            data, bars, hop, skips=skips, track=track, jobs=jobs, expand_repeats=expand_repeats,
            on_start=lambda total: tasks.append(progress.add_task("melodies", total=total)),
            on_item=lambda: progress.advance(tasks[0]))
    seconds = time.perf_counter() - began

    midi_count, tune_count = counts["midi_files"], counts["abc_tunes"]
    inputs = midi_count + tune_count
    if not len(collector):
        reasons = ", ".join(f"{kind} {n}" for kind, n in skips.reasons.items())
        why = (f"{collector.melodies} melodies gave no {bars}-bar window with notes sounding at least half the "
               f"time" if collector.melodies else "no melody could be read")
        raise AudiogenError(f"no windows extracted from {midi_count} MIDI files and {tune_count} ABC tunes: "
                            f"{why}" + (f" (skipped: {reasons})" if reasons else ""))
    shifts = None if shift_range is None else range(shift_range[0], shift_range[1] + 1)
    arrays = collector.arrays(shifts)
    arrays["expand_repeats"] = np.bool_(expand_repeats)
    save_windows(out, arrays)

    windows = len(arrays["events"])
    by_meter = dict(sorted(collector.by_meter.items(), key=lambda kv: -kv[1]))
    summary = {
        "output": out, "windows": windows, "windows_before_transpose": len(collector),
        "windows_by_meter": by_meter, "window_steps": bars * 16,
        "midi_files": midi_count, "abc_files": counts["abc_files"], "abc_tunes": tune_count,
        "melodies": collector.melodies, "melodies_without_windows": collector.melodies_without_windows,
        "notes_read": collector.notes_total, "notes_kept": collector.notes_kept,
        "seconds": round(seconds, 2), "inputs_per_second": round(inputs / seconds, 1) if seconds > 0 else None,
        "skipped": skips.to_dict(),
    }
    if counts["abc_read"] is not None:
        summary["abc_read"] = counts["abc_read"]
    if json_out:
        emit_json({**summary, **provenance("data melodies", {
            "data": [str(p) for p in data], "out": out, "bars": bars, "hop_bars": hop,
            "transpose": None if shift_range is None else list(shift_range), "track": track, "strict": strict,
            "expand_repeats": expand_repeats,
            "jobs": counts["jobs"]})})
    meters = ", ".join(f"{meter} {n}" for meter, n in by_meter.items())
    shifted = f" ({len(collector)} before transposition)" if shifts is not None else ""
    result_line(f"{out}: {windows} windows of {bars} x 16 steps{shifted} from {collector.melodies} melodies "
                f"({midi_count} MIDI files, {tune_count} ABC tunes); by meter: {meters}; "
                f"skipped {len(skips)}", json_mode=json_out)
    quiet_notes = quiet or json_out
    if collector.melodies_without_windows:
        note(f"{collector.melodies_without_windows} melodies gave no window (too short or mostly silent)",
             quiet=quiet_notes)
    for kind, n in skips.reasons.items():
        note(f"skipped {n}: {kind}", quiet=quiet_notes)
    workers = f" with {counts['jobs']} processes" if counts["jobs"] > 1 else ""
    note(f"{inputs} inputs in {seconds:.1f} s ({inputs / max(seconds, 1e-9):.1f}/s{workers}); skyline kept "
         f"{collector.notes_kept} of {collector.notes_total} notes", quiet=quiet_notes)
