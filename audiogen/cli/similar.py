"""`audiogen similar`: the sounds of a library nearest to a query file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import shared_options
from audiogen.cli.output import emit_json, note, provenance, result_line
from audiogen.cli.samplevae_options import IndexOpt, MaxSecondsOpt, SampleVAEModelOpt, progress_hooks


@shared_options("device", "json_out", "quiet")
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
    *, device, json_out, quiet,
) -> None:
    """Find the sounds in your library nearest to FILE (latent distance, exact top-k; FILE itself is left out).

    Example: audiogen similar kick.wav -k 10 --class kick
    """
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.samplevae.similar import find_similar

    torch_device = resolve_device(device)
    with make_progress(quiet=quiet or json_out or library is None, unit="file") as progress:
        on_start, on_file = progress_hooks(progress, f"embed {library}")
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
