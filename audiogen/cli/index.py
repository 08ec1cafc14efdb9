"""`audiogen index`: embed a folder of sounds into a persistent library index (incremental)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from audiogen.cli.options import shared_options
from audiogen.cli.output import emit_json, note, provenance, result_line
from audiogen.cli.samplevae_options import IndexOpt, MaxSecondsOpt, SampleVAEModelOpt, SplitOnsetsOpt, progress_hooks


def _update_index(path: Path, folder: Path, model, *, rebuild: bool, strict: bool, split_onsets: bool,
                  max_seconds: float, device, quiet: bool):
    """`index`'s work, run under the index's lock -> (a report per folder, the model bundle)."""
    import shutil

    from audiogen.data.skips import SkipLog
    from audiogen.runtime.progress import make_progress
    from audiogen.samplevae.indexing import update_index
    from audiogen.samplevae.library_index import index_exists, open_index
    from audiogen.samplevae.similar import model_for_index

    roots = [folder]
    target = path
    if rebuild and index_exists(path):
        old = open_index(path)
        roots += [Path(r) for r in old.roots() if Path(r).resolve() != folder.resolve() and Path(r).is_dir()]
        old.close()
        target = path.with_name(path.name + ".rebuild")
        shutil.rmtree(target, ignore_errors=True)
    existing = None if rebuild or not index_exists(path) else open_index(path)
    try:
        bundle = model_for_index(existing, model, device)
    finally:
        if existing is not None:
            existing.close()
    created = not index_exists(target)
    index = open_index(target, create=True)
    reports = []
    try:
        for root in roots:
            with make_progress(quiet=quiet, unit="file") as progress:
                on_start, on_file = progress_hooks(progress, f"index {root}")
                reports.append(update_index(index, bundle, root, skips=SkipLog(strict=strict),
                                            split_onsets=split_onsets, max_seconds=max_seconds,
                                            on_start=on_start, on_file=on_file))
    except BaseException:
        index.close()
        if created:  # a first run that failed leaves no empty index behind (the lock makes it ours)
            shutil.rmtree(target, ignore_errors=True)
        raise
    index.close()
    if target != path:  # swap the rebuilt index in only once it is complete
        retired = path.with_name(path.name + ".old")
        shutil.rmtree(retired, ignore_errors=True)
        path.rename(retired)
        target.rename(path)
        shutil.rmtree(retired, ignore_errors=True)
    return reports, bundle


@shared_options("strict", "device", "json_out", "quiet")
def index_command(
    folder: Annotated[Path, typer.Argument(help="Sample library folder (searched recursively).", show_default=False,
                                           metavar="DIR")],
    index_path: IndexOpt = None,
    model: SampleVAEModelOpt = None,
    split_onsets: SplitOnsetsOpt = False,
    max_seconds: MaxSecondsOpt = 30.0,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Start the index afresh with this model, re-embedding "
                                          "DIR and every folder indexed before.")] = False,
    *, strict, device, json_out, quiet,
) -> None:
    """Embed every audio file under DIR into the persistent index used by `similar` and `map`.

    Incremental: a re-run embeds only new or changed files and forgets deleted ones. Unusable files are skipped, listed and counted.

    Example: audiogen index ~/samples
    """
    from audiogen.errors import BadInputError
    from audiogen.runtime.atomic import check_writable_dir
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.locks import exclusive_lock
    from audiogen.samplevae.library_index import default_index_path

    path = Path(os.path.expanduser(str(index_path))) if index_path is not None else default_index_path()
    if not folder.is_dir():
        raise BadInputError(folder, "no such folder" if not folder.exists() else "not a folder")
    check_writable_dir(path)  # before the lock file is made beside it
    torch_device = resolve_device(device)
    import sqlite3

    with exclusive_lock(path, "updating this index", " (or give another --index)"):
        try:
            reports, bundle = _update_index(path, folder, model, rebuild=rebuild, strict=strict,
                                            split_onsets=split_onsets, max_seconds=max_seconds,
                                            device=torch_device, quiet=quiet or json_out)
        except sqlite3.OperationalError as e:  # SQLite's words for a full or read-only disk
            if "full" in str(e) or "readonly" in str(e) or "disk I/O" in str(e):
                raise BadInputError(path, f"cannot write here ({e}); the index keeps its last committed state") \
                    from None
            raise
    final = reports[-1]
    if json_out:
        emit_json({"index": path, "sounds": final.sounds, "folders": [r.__dict__ for r in reports],
                   "model": bundle.path, "model_sha256": bundle.sha256, **provenance("index", {
                       "folder": folder, "index": index_path, "model": model, "split_onsets": split_onsets,
                       "max_seconds": max_seconds, "rebuild": rebuild, "strict": strict,
                       "device": str(torch_device)})})
    for r in reports:
        rate = r.new_sounds / r.seconds if r.seconds > 0 else 0.0
        result_line(f"{r.root}: {r.files} audio files: {r.added} added, {r.changed} changed, {r.unchanged} unchanged, "
                    f"{r.removed} removed, {len(r.skipped)} unusable; {r.new_sounds} sounds embedded in "
                    f"{r.seconds:.1f} s ({rate:.0f}/s)", json_mode=json_out)
    if any(r.skipped for r in reports) and not json_out:
        for r in reports:
            for p, why in r.skipped[:50]:
                note(f"  unusable: {p}: {why}", quiet=quiet)
    note(f"index {path}: {final.sounds} sounds (model {bundle.path}, sha256 {bundle.sha256[:12]})",
         quiet=quiet or json_out)
