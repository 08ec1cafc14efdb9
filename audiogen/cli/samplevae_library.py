"""The sample-library commands: `audiogen classify`, `audiogen index`, `audiogen similar`, `audiogen map`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import DeviceOpt, JsonOpt, QuietOpt, writable_file
from audiogen.cli.output import emit_json, note, provenance, result_line
from audiogen.cli.options import StrictOpt
from audiogen.cli.samplevae_options import IndexOpt, SampleVAEModelOpt

SplitOnsetsOpt = Annotated[bool, typer.Option("--split-onsets", help="Cut files longer than --max-seconds at their "
                                              "onsets and index each hit (default: such files are skipped).")]
MaxSecondsOpt = Annotated[float, typer.Option("--max-seconds", min=0.01, help="Longest file taken as one sound.")]


def _progress_hooks(progress, label: str):
    tasks: list = []
    return (lambda total: tasks.append(progress.add_task(label, total=total)),
            lambda: progress.advance(tasks[0]) if tasks else None)


def classify_command(
    inputs: Annotated[list[Path], typer.Argument(help="Audio files or folders (searched recursively).",
                                                 show_default=False, metavar="FILE|DIR...")],
    model: SampleVAEModelOpt = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Classes listed per file in the human output.")] = 1,
    strict: StrictOpt = False,
    device: DeviceOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Sort samples into the model's classes (bundled model: kick, snare, hihat, tom, cymbal, clap, other).

    Prints one line per file: class, confidence, path. Unusable files are skipped and counted.

    Example: audiogen classify samples/ --json
    """
    from audiogen.data.audio_folders import list_audio_files
    from audiogen.data.skips import SkipLog
    from audiogen.errors import AudiogenError, BadInputError, require_file
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.samplevae.generate import class_table
    from audiogen.samplevae.indexing import embed_files
    from audiogen.samplevae.load import load_samplevae_model

    torch_device = resolve_device(device)
    bundle = load_samplevae_model(model, torch_device)
    if not bundle.classes:
        raise AudiogenError(f"{bundle.path}: this model has no class head (it was trained on a folder without "
                            "class subfolders)")
    files: list[Path] = []
    for item in inputs:
        if not item.exists():
            raise BadInputError(item, "no such file or folder")
        if not item.is_dir():
            require_file(item, "an audio file or a folder")
        found = list_audio_files(item) if item.is_dir() else [item]
        if item.is_dir() and not found:
            raise BadInputError(item, "holds no audio files")
        files.extend(found)
    single = len(inputs) == 1 and not inputs[0].is_dir()
    skips = SkipLog(strict=strict or single)
    with make_progress(quiet=quiet or json_out or len(files) < 50, unit="file") as progress:
        task = progress.add_task("classify", total=len(files))
        embedded = embed_files(bundle, files, skips=skips, on_file=lambda: progress.advance(task))
    rows = class_table(embedded.probs, bundle.classes) if embedded.paths else []
    results = [{"path": p, **row} for p, row in zip(embedded.paths, rows)]
    if json_out:
        counts: dict[str, int] = {}
        for r in results:
            counts[r["class"]] = counts.get(r["class"], 0) + 1
        emit_json({"files": results, "counts": counts, "skipped": skips.to_dict(), "model": bundle.path,
                   "model_sha256": bundle.sha256, **provenance("classify", {
                       "inputs": [str(i) for i in inputs], "model": model, "strict": strict,
                       "device": str(torch_device)})})
    else:
        for r in results:
            ranked = sorted(r["probabilities"].items(), key=lambda kv: -kv[1])[:top]
            label = "  ".join(f"{name} {p:.2f}" for name, p in ranked)
            print(f"{label}\t{r['path']}")
    if len(skips):
        note(f"{len(results)} files classified, {len(skips)} skipped", quiet=quiet and not json_out)
    if not results:
        raise AudiogenError("no usable audio files to classify")


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
                on_start, on_file = _progress_hooks(progress, f"index {root}")
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


def index_command(
    folder: Annotated[Path, typer.Argument(help="Sample library folder (searched recursively).", show_default=False,
                                           metavar="DIR")],
    index_path: IndexOpt = None,
    model: SampleVAEModelOpt = None,
    split_onsets: SplitOnsetsOpt = False,
    max_seconds: MaxSecondsOpt = 30.0,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Start the index afresh with this model, re-embedding "
                                          "DIR and every folder indexed before.")] = False,
    strict: StrictOpt = False,
    device: DeviceOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Embed every audio file under DIR into the persistent index used by `similar` and `map`.

    Incremental: a re-run embeds only new or changed files and forgets deleted ones. Unusable files are skipped, listed and counted.

    Example: audiogen index ~/samples
    """
    from audiogen.errors import BadInputError
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.atomic import check_writable_dir
    from audiogen.runtime.locks import exclusive_lock
    from audiogen.samplevae.library_index import default_index_path

    path = Path(os.path.expanduser(str(index_path))) if index_path is not None else default_index_path()
    if not folder.is_dir():
        raise BadInputError(folder, "no such folder" if not folder.exists() else "not a folder")
    check_writable_dir(path)  # before the lock file is made beside it
    torch_device = resolve_device(device)
    with exclusive_lock(path, "updating this index", " (or give another --index)"):
        reports, bundle = _update_index(path, folder, model, rebuild=rebuild, strict=strict,
                                        split_onsets=split_onsets, max_seconds=max_seconds,
                                        device=torch_device, quiet=quiet or json_out)
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


def similar_command(
    query: Annotated[Path, typer.Argument(help="The sound to match.", show_default=False, metavar="FILE")],
    index_path: IndexOpt = None,
    library: Annotated[Optional[Path], typer.Option("--library", help="Search this folder directly (embedded now, "
                                                    "not kept) instead of an index.", show_default=False,
                                                    metavar="DIR")] = None,
    k: Annotated[int, typer.Option("-k", "--top-k", min=1, max=100000, help="How many neighbours.")] = 10,
    class_name: Annotated[Optional[str], typer.Option("--class", help="Only sounds the model classes as this "
                                                      "(e.g. snare).", show_default=False)] = None,
    model: SampleVAEModelOpt = None,
    max_seconds: MaxSecondsOpt = 30.0,
    device: DeviceOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Find the sounds in your library nearest to FILE (latent distance, exact top-k; FILE itself is left out).

    Example: audiogen similar kick.wav -k 10 --class kick
    """
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.samplevae.similar import find_similar

    torch_device = resolve_device(device)
    with make_progress(quiet=quiet or json_out or library is None, unit="file") as progress:
        on_start, on_file = _progress_hooks(progress, f"embed {library}")
        found = find_similar(query, index_path=index_path, library=library, k=k, class_name=class_name, model=model,
                             device=torch_device, max_seconds=max_seconds, on_start=on_start, on_file=on_file)
    if found["library_skipped"]:
        note(f"{found['library_skipped']} unusable files in {library} left out", quiet=quiet or json_out)
    results, gone, size, seconds, source = (found["results"], found["gone"], found["size"], found["seconds"],
                                            found["source"])
    exclude = found["excluded"]
    if gone:
        note(f"{gone} indexed {'file is' if gone == 1 else 'files are'} gone since indexing and left out; "
             f"re-index with `audiogen index DIR{'' if index_path is None else f' --index {index_path}'}`",
             quiet=quiet and not json_out)
    if json_out:
        emit_json({"query": str(query), "query_vector_from": source, "results": results, "library_size": size,
                   "missing_files_skipped": gone,
                   "seconds": round(seconds, 4), **provenance("similar", {
                       "query": query, "index": index_path, "library": library, "k": k, "class": class_name,
                       "model": model, "device": str(torch_device)})})
        return
    if not results:
        result_line("no sounds to compare with" + (f" of class {class_name}" if class_name else ""), json_mode=False)
        return
    for rank, r in enumerate(results, 1):
        where = r["path"] + (f" @ {r['offset']:.2f} s" if r["offset"] else "")
        label = f"{r['class']:<7}" if r["class"] else ""
        print(f"{rank:>3}  {r['distance']:8.3f}  {label} {where}")
    note(f"{len(results)} nearest of {size} sounds in {seconds * 1000:.0f} ms"
         + (" (query left out: it is in the library)" if exclude else ""), quiet=quiet)


def map_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Picture of the map (.png, .svg, .pdf).", show_default=False,
                                      callback=writable_file)],
    index_path: IndexOpt = None,
    html: Annotated[Optional[Path], typer.Option("--html", help="Also an HTML page of the map: click a point to "
                                                 "hear the sound.", show_default=False, callback=writable_file)] = None,
    max_points: Annotated[int, typer.Option("--max-points", min=10, help="Points drawn (a random subset beyond "
                                            "this).")] = 20000,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Draw the indexed library as a 2-D map (principal components of the latents), coloured by class.

    Example: audiogen map --out library.png --html library.html
    """
    from audiogen.errors import AudiogenError
    from audiogen.plotting import check_picture_path
    from audiogen.runtime.atomic import atomic_outputs
    from audiogen.samplevae.library_index import default_index_path, open_index
    from audiogen.samplevae.library_map import map_points, write_map_html, write_map_picture

    check_picture_path(out)
    index = open_index(index_path if index_path is not None else default_index_path())
    try:
        if len(index) == 0:
            raise AudiogenError(f"{index.path}: the index is empty; add sounds with `audiogen index DIR`")
        points = map_points(index, max_points=max_points)
    finally:
        index.close()
    with atomic_outputs() as outputs:  # the picture and the page, both or neither
        write_map_picture(outputs.path(out), points)
        if html is not None:
            write_map_html(outputs.path(html), points)
    if json_out:
        emit_json({"out": out, "html": html, "points": len(points["xy"]), "sounds": points["total"],
                   "explained_variance": points["explained"], **provenance("map", {
                       "out": out, "index": index_path, "html": html, "max_points": max_points})})
    shown = f"{len(points['xy'])} of {points['total']}" if len(points["xy"]) < points["total"] else str(points["total"])
    result_line(f"map of {shown} sounds -> {out}" + (f" and {html}" if html else ""), json_mode=json_out)
    note(f"axes: the latents' first two principal components ({points['explained'][0]:.0%} and "
         f"{points['explained'][1]:.0%} of the variance)", quiet=quiet or json_out)
