"""`audiogen data drums`: a labelled library of drum one-shots from the kits installed here."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import JsonOpt, QuietOpt, Subtype, SubtypeOpt, writable_dir
from audiogen.cli.output import emit_json, note, provenance, result_line


class DrumSource(str, Enum):
    hydrogen = "hydrogen"
    sonic_pi = "sonic-pi"
    soundfont = "soundfont"


def drums(
    out: Annotated[Path, typer.Option("--out", "-o", help="Library folder: class folders + manifest.csv.",
                                      show_default=False, callback=writable_dir)],
    source: Annotated[Optional[list[DrumSource]], typer.Option(
        "--source", help="Where to collect from (repeatable; default: all three, skipping any not installed).",
        show_default=False)] = None,
    hydrogen_dir: Annotated[Optional[list[Path]], typer.Option(
        "--hydrogen-dir", help="A Hydrogen kit folder or a folder of kits (repeatable; default: the system's).",
        show_default=False)] = None,
    sonic_pi_dir: Annotated[Optional[list[Path]], typer.Option(
        "--sonic-pi-dir", help="A sonic-pi samples folder (default: the installed one).", show_default=False)] = None,
    soundfont: Annotated[Optional[list[Path]], typer.Option(
        "--soundfont", help="SoundFont to render drums from (repeatable; default: every one found).",
        show_default=False)] = None,
    velocities: Annotated[str, typer.Option("--velocities", help="MIDI velocities of SoundFont renders.")] = "40,80,120",
    notes: Annotated[str, typer.Option("--notes", help="GM drum notes to render (list/ranges).")] = "35-81",
    sample_rate: Annotated[Optional[int], typer.Option(
        "--sample-rate", min=8000, max=192000,
        help="Resample every one-shot to this rate (default: keep each file's; renders at 44100).",
        show_default=False)] = None,
    mono: Annotated[bool, typer.Option("--mono", help="Mix stereo samples down to mono.")] = False,
    subtype: SubtypeOpt = Subtype.PCM_16,
    force: Annotated[bool, typer.Option("--force", help="Replace the library in a non-empty --out folder.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first unreadable file or drumkit.xml.")] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Collect labelled drum one-shots (kick, snare, hihat, tom, cymbal, clap, other) from the kits installed here.

    Hydrogen kits (names from each drumkit.xml), sonic-pi's drum samples and GM drum notes rendered
    from SoundFonts become OUT/<class>/<kit>__<instrument>__<layer>.wav plus OUT/manifest.csv
    (file, class, kit, instrument, source, source_file, licence, ...). Counts per class and kit go
    to stderr. A non-empty OUT is refused unless --force, which replaces only the class folders and
    the manifest.

    Example: audiogen data drums --out drums/ --source hydrogen --source soundfont --velocities 40,100
    """
    from audiogen.data.drums import build_drum_library
    from audiogen.data.ranges import parse_int_list

    velocity_list = parse_int_list(velocities, "--velocities", 1, 127)
    note_list = parse_int_list(notes, "--notes", 0, 127)
    summary = build_drum_library(
        out, sources=[s.value for s in source] if source else None, hydrogen_dirs=hydrogen_dir or None,
        sonic_pi_dirs=sonic_pi_dir or None, soundfonts=soundfont or None, notes=note_list,
        velocities=velocity_list, sample_rate=sample_rate, mono=mono, subtype=subtype.value, force=force,
        strict=strict, quiet=quiet)
    for message in summary["notes"]:
        note(message, quiet=quiet)
    if not quiet:
        _print_table(summary)
    if json_out:
        emit_json({**summary, **provenance("data drums", {
            "out": out, "source": [s.value for s in source] if source else None,
            "hydrogen_dir": [str(p) for p in hydrogen_dir] if hydrogen_dir else None,
            "sonic_pi_dir": [str(p) for p in sonic_pi_dir] if sonic_pi_dir else None,
            "soundfont": [str(p) for p in soundfont] if soundfont else None, "velocities": velocity_list,
            "notes": note_list, "sample_rate": sample_rate, "mono": mono, "subtype": subtype, "force": force,
            "strict": strict})})
    counts = ", ".join(f"{label} {n}" for label, n in summary["classes"].items())
    dropped = ", ".join(f"{n} {why.replace('_', ' ')}" for why, n in summary["dropped"].items() if n)
    result_line(f"wrote {summary['files']} one-shots from {len(summary['kits'])} kits to {out} ({counts}); "
                f"dropped {dropped or 'none'}; skipped {summary['skipped']['count']} bad files; "
                f"{summary['seconds']:.1f} s", json_mode=json_out)


def _print_table(summary: dict) -> None:
    """Counts per kit (rows) and class (columns) on stderr (licences: manifest.csv and --json)."""
    from rich import box
    from rich.table import Table

    from audiogen.runtime.progress import stderr_console

    labels = list(summary["classes"])
    table = Table(title="drum one-shots per kit and class", title_justify="left", box=box.SIMPLE_HEAD, padding=(0, 0),
                  pad_edge=False)
    table.add_column("kit", no_wrap=True, max_width=20, overflow="ellipsis")
    for column in (*labels, "total"):
        table.add_column(column, justify="right", no_wrap=True, min_width=len(column))
    for kit in summary["kits"]:
        table.add_row(kit["kit"], *(str(kit["classes"][c]) for c in labels), str(kit["files"]))
    table.add_section()
    table.add_row("all", *(str(summary["classes"][c]) for c in labels), str(summary["files"]))
    stderr_console().print(table)
