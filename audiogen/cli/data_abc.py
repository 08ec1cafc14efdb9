"""`audiogen data abc`: one clean, renumbered ABC file from music21's tune books and/or your own files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import JsonOpt, OutFile, QuietOpt
from audiogen.cli.output import emit_json, note, provenance, result_line


def abc(
    out: OutFile,
    collection: Annotated[Optional[list[str]], typer.Option(
        "--collection", "-c", show_default=False, metavar="NAME",
        help="music21 corpus collection (repeatable): oneills1850, ryansMammoth, airdsAirs, miscFolk, "
             "essenFolksong (non-commercial licence). Default: the first four, unless --data is given.")] = None,
    data: Annotated[Optional[list[Path]], typer.Option(
        "--data", show_default=False, metavar="FILE|DIR",
        help="Your own ABC file or folder (searched for *.abc), repeatable; read instead of, or with "
             "--collection in addition to, the corpus.")] = None,
    scans_only: Annotated[bool, typer.Option(
        "--scans-only", help="Keep only tunes whose every bar is in meter (pickups allowed; audiogen's bar "
        "reader, which follows abc2midi's bar check), after removing stray marks abc2midi ignores or rejects "
        "in the body (backticks, fingerings written as \"4\"); the dropped tunes are counted.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Stop at the first bad file (unreadable, not ABC, garbage lines) instead of skipping it.")] = False,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Write one ABC file of tunes, renumbered X:1..N, from corpus collections and/or your own files.

    Tunes without K: and a music line are dropped; garbage lines are dropped with a warning.

    Unreadable or non-ABC files are skipped with a warning (with --strict, either stops the run).

    The output starts with a % comment header: collections, counts, licences (Essen: non-commercial).

    Example: audiogen data abc --out tunes.abc --collection oneills1850 --collection miscFolk
    """
    from audiogen.data.abc import (
        DEFAULT_COLLECTIONS,
        AbcReadReport,
        corpus_collections,
        list_abc_files,
        read_abc,
        read_collection,
        renumber,
    )
    from audiogen.data.skips import SkipLog
    from audiogen.errors import AudiogenError
    from audiogen.runtime.atomic import atomic_write_text

    names = list(dict.fromkeys(collection or ([] if data else DEFAULT_COLLECTIONS)))
    available = corpus_collections() if names else {}
    unknown = [name for name in names if name not in available]
    if unknown:
        raise AudiogenError(f"unknown ABC collection {unknown[0]!r}; valid: {', '.join(available) or 'none'}")
    skips = SkipLog(strict=strict, warn=not quiet)
    sources: list[dict] = []
    tunes = []
    for name in names:
        report = AbcReadReport()
        tunes += read_collection(name, skips=skips, report=report)
        sources.append({"name": name, "kind": "collection", "path": available[name], **report.to_dict()})
    for path in data or []:
        report = AbcReadReport()
        # A rerun must not read its own earlier output back in from a --data folder.
        files = [f for f in list_abc_files(path) if f.resolve() != out.resolve()]
        tunes += read_abc(files, skips=skips, report=report)
        sources.append({"name": str(path), "kind": "data", "path": path, **report.to_dict()})
    if not tunes:
        raise AudiogenError("no tunes with a body found in " + ", ".join(s["name"] for s in sources))
    out_of_meter = 0
    if scans_only:
        from dataclasses import replace

        from audiogen.notation.bars import scan_tune, strip_stray_marks

        cleaned = [replace(t, text=strip_stray_marks(t.text)) for t in tunes]
        kept = [t for t in cleaned if scan_tune(t.text).scans]
        out_of_meter = len(tunes) - len(kept)
        if not kept:
            raise AudiogenError(f"none of the {len(tunes)} tunes scans (every bar in meter); drop --scans-only")
        tunes = kept

    atomic_write_text(out, _header(tunes, sources) + "\n" + renumber(tunes))

    numbers = [t.number for t in tunes if t.number is not None]
    totals = {key: sum(s[key] for s in sources) for key in ("no_body", "garbage_lines", "rejoined_lines")}
    if json_out:
        emit_json({"output": out, "tunes": len(tunes), **totals, "out_of_meter": out_of_meter if scans_only else None,
                   "duplicate_numbers": len(numbers) - len(set(numbers)),
                   "sources": sources,
                   "skipped": skips.to_dict(),
                   **provenance("data abc", {"out": out, "collection": names, "data": [str(p) for p in data or []],
                                             "scans_only": scans_only, "strict": strict})})
    per_source = ", ".join(f"{s['name']} {s['tunes']}" for s in sources)
    result_line(f"wrote {out}: {len(tunes)} tunes ({per_source}); {totals['no_body']} dropped without a body, "
                f"{totals['garbage_lines']} garbage line(s) dropped, "
                + (f"{out_of_meter} dropped out of meter, " if scans_only else "")
                + f"{len(skips)} files skipped", json_mode=json_out)
    if "essenFolksong" in names:
        note("note: essenFolksong is licensed for non-commercial use only (see the output's header)",
             quiet=quiet or json_out)


def _header(tunes, sources: list[dict]) -> str:
    """The output's leading % comment block: what it holds, where from, under which licences."""
    import audiogen
    from audiogen.data.abc import COLLECTIONS, LICENCES, PUBLIC_DOMAIN_NOTE

    lines = [f"% {len(tunes)} ABC tunes, renumbered X:1..{len(tunes)}, UTF-8; "
             f"written by audiogen {audiogen.__version__} (audiogen data abc)"]
    for s in sources:
        what = COLLECTIONS.get(s["name"], "") if s["kind"] == "collection" else "your files"
        lines.append(f"% {s['kind']} {s['name']}: {s['tunes']} tunes from {s['files']} files ({what})")
    lines.append(f"% dropped: {sum(s['no_body'] for s in sources)} tunes without a body, "
                 f"{sum(s['garbage_lines'] for s in sources)} garbage line(s)")
    corpus = [s["name"] for s in sources if s["kind"] == "collection"]
    free = [name for name in corpus if name not in LICENCES]
    if free:
        lines.append(f"% licence of {', '.join(free)}: {PUBLIC_DOMAIN_NOTE}")
    lines += [f"% licence of {name}: {LICENCES[name]}" for name in corpus if name in LICENCES]
    return "\n".join(lines) + "\n"
