"""`audiogen directions gansynth`: the latent directions a model carries (brighter, noisier, ...), or
with --fit, measure them on the model and write a copy of it that carries them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import shared_options, writable_file
from audiogen.cli.output import emit_json, note, provenance, result_line


@shared_options("device", "json_out", "quiet", "force")
def directions_gansynth_command(
    model: Annotated[Optional[Path], typer.Option("--model", help="GANSynth model file or bundled name (default: "
                                                  "gansynth).", show_default=False)] = None,
    fit: Annotated[bool, typer.Option("--fit", help="Measure the directions on the model (brightness, attack, "
                                      "decay, noisiness), check each, and write them into a copy (--out).")] = False,
    out: Annotated[Optional[Path], typer.Option("--out", help="With --fit: the model file to write (.safetensors).",
                                                show_default=False, callback=writable_file)] = None,
    notes: Annotated[int, typer.Option("--notes", min=50, max=100000, help="With --fit: generated notes the "
                                       "directions are fitted on (spread over MIDI 48, 60, 72).")] = 900,
    picture: Annotated[Optional[Path], typer.Option("--picture", help="Also draw one timbre at MIDI 48, 60 and 72 "
                                                    "stepped -2..+2 along --show as log-mel spectrograms, each "
                                                    "titled with its measured attribute.", show_default=False,
                                                    callback=writable_file)] = None,
    show: Annotated[Optional[str], typer.Option("--show", help="The direction --picture steps along.",
                                                show_default=False, metavar="NAME")] = None,
    *, device, json_out, quiet, force,
) -> None:
    """List a GANSynth model's latent directions, each with its measured effect: how far one unit step moves its attribute, and how often -2 to +2 moved it the named way with the pitch kept (pYIN).

    Use a shipped direction with --direction NAME=AMOUNT on sample, render, interpolate and export gansynth.

    Example: audiogen directions gansynth --json
    """
    from audiogen.errors import AudiogenError, BadInputError
    from audiogen.gansynth.directions import ATTRIBUTES, fit_model_directions, stored_directions
    from audiogen.gansynth.load import load_gansynth_model
    from audiogen.runtime.device import resolve_device

    if (picture is None) != (show is None):
        raise AudiogenError("--picture and --show go together: the picture steps along the direction --show names")
    if picture is not None:
        from audiogen.plotting import check_picture_path

        check_picture_path(picture)
    torch_device = resolve_device(device)
    if fit:
        if out is None:
            raise AudiogenError("--fit writes a copy of the model with its directions: give --out FILE.safetensors")
        if out.suffix.lower() != ".safetensors":
            raise BadInputError(out, "a model file ends in .safetensors")
        if out.exists() and not force:
            raise BadInputError(out, "already exists; use --force to replace it")
        found = fit_model_directions(model or "gansynth", out, notes=notes, device=str(torch_device))
        where = out
    else:
        if out is not None:
            raise AudiogenError("--out is for --fit")
        bundle = load_gansynth_model(model, torch_device)
        found, where = stored_directions(bundle), bundle.path
        if not found:
            raise BadInputError(where, "carries no latent directions; fit them with `audiogen directions "
                                       "gansynth --fit --out NEW.safetensors`")
    if picture is not None:
        from audiogen.gansynth.directions import direction_grid
        from audiogen.plotting import plot_grid

        bundle = load_gansynth_model(where, torch_device)
        plot_grid(picture, direction_grid(bundle, show), title=f"{Path(where).name}: one timbre stepped along {show}")
    if json_out:
        emit_json({"model": str(where), "picture": None if picture is None else str(picture), "directions": {k: {kk: vv for kk, vv in v.items() if kk != "direction"}
                                                       for k, v in found.items()},
                   **provenance("directions gansynth", {"model": model, "fit": fit, "out": out, "notes": notes,
                                                        "picture": picture, "show": show,
                                                        "device": str(torch_device)})})
        return
    for name, entry in found.items():
        check = entry.get("check") or {}
        kept = check.get("pitch_kept_share")
        result_line(f"{name:10s} {'shipped' if entry.get('shipped') else 'not shipped':11s} one unit step: "
                    f"{entry['per_unit']:.4g} {entry['unit']} ({ATTRIBUTES.get(name, ('', ''))[1]}); -2 -> +2 moved "
                    f"it on {check.get('moved_share', float('nan')):.0%} of {check.get('notes', 0)} notes, median "
                    f"{check.get('median_change')} {entry['unit']}; pitch kept on "
                    f"{'-' if kept is None else f'{kept:.0%}'}", json_mode=False)
    note(f"model {where}", quiet=quiet)
