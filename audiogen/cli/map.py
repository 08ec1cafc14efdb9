"""`audiogen map`: a 2-D picture (and HTML page) of a library index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import JsonOpt, QuietOpt, writable_file
from audiogen.cli.output import emit_json, note, provenance, result_line
from audiogen.cli.samplevae_options import IndexOpt


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
