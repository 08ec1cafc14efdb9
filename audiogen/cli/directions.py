"""`audiogen directions gansynth|samplevae`: the latent directions a model carries (brighter,
noisier, ...), or with --fit, measure them on the model and write a copy of it that carries them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import shared_options, writable_file
from audiogen.cli.output import emit_json, note, provenance, result_line

FitOpt = Annotated[bool, typer.Option("--fit", help="Measure the directions on the model (brightness, attack, decay, "
                                      "noisiness), check each, and write them into a copy (--out).")]
OutOpt = Annotated[Optional[Path], typer.Option("--out", help="With --fit: the model file to write (.safetensors).",
                                                show_default=False, callback=writable_file)]
PictureOpt = Annotated[Optional[Path], typer.Option("--picture", help="Also draw the rows this help names, stepped "
                                                    "-2..+2 along --show as log-mel spectrograms, each titled with its "
                                                    "measured attribute.", show_default=False, callback=writable_file)]
ShowOpt = Annotated[Optional[str], typer.Option("--show", help="The direction --picture steps along.",
                                                show_default=False, metavar="NAME")]


def _family(name: str):
    """(the family's model loader, its directions module, its default model, what a check counts:
    also the name of its fit's size argument)."""
    if name == "gansynth":
        from audiogen.gansynth import directions
        from audiogen.gansynth.load import load_gansynth_model as load

        return load, directions, "gansynth", "notes"
    from audiogen.samplevae import directions
    from audiogen.samplevae.load import load_samplevae_model as load

    return load, directions, "samplevae-drums", "sounds"


def _directions(family: str, model, fit: bool, out, count: int, picture, show, *, device, json_out, quiet, force,
                args: dict) -> None:
    """The body both commands share: list, or fit into --out; draw --picture; print."""
    from audiogen.dsp.timbre import describe
    from audiogen.errors import AudiogenError, BadInputError
    from audiogen.plotting import check_picture_path, plot_grid, spectrogram_panels
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.latents import stored_directions

    load, module, default, counted = _family(family)
    if (picture is None) != (show is None):
        raise AudiogenError("--picture and --show go together: the picture steps along the direction --show names")
    if picture is not None:
        check_picture_path(picture)
    torch_device = resolve_device(device)
    if fit:
        if out is None:
            raise AudiogenError("--fit writes a copy of the model with its directions: give --out FILE.safetensors")
        if out.suffix.lower() != ".safetensors":
            raise BadInputError(out, "a model file ends in .safetensors")
        if out.exists() and not force:
            raise BadInputError(out, "already exists; use --force to replace it")
        found = module.fit_model_directions(model or default, out, device=str(torch_device), **{counted: count})
        where = out
    else:
        if out is not None:
            raise AudiogenError("--out is for --fit")
        bundle = load(model, torch_device)
        found, where = stored_directions(bundle), bundle.path
        if not found:
            raise BadInputError(where, f"carries no latent directions; fit them with `audiogen directions {family} "
                                       "--fit --out NEW.safetensors`")
    if picture is not None:
        bundle = load(where, torch_device)
        cells = [[{**spectrogram_panels(cell["wave"], "mel", bundle.sample_rate)[0], "title": cell["title"]}
                  for cell in row]
                 for row in module.direction_grid(bundle, show)]
        plot_grid(picture, cells, title=f"{Path(where).name}: stepped along {show}")
    if json_out:
        emit_json({"model": str(where), "picture": None if picture is None else str(picture),
                   "directions": {k: {kk: vv for kk, vv in v.items() if kk != "direction"} for k, v in found.items()},
                   **provenance(f"directions {family}", {**args, "device": str(torch_device)})})
        return
    for name, entry in found.items():
        check = entry.get("check") or {}
        kept = check.get("pitch_kept_share", check.get("class_kept_share"))
        what_kept = "pitch" if "pitch_kept_share" in check else "class"
        before = check.get("pitch_kept_unmoved_share")
        result_line(f"{name:10s} {'shipped' if entry.get('shipped') else 'not shipped':11s} one unit step: "
                    f"{describe(entry['per_unit'], entry['unit'])} ({module.ATTRIBUTES.get(name, ('', ''))[1]}); "
                    f"-2 -> +2 moved it on {check.get('moved_share', float('nan')):.0%} of {check.get(counted, 0)} "
                    f"{counted}, median {describe(check.get('median_change'), entry['unit'])}; {what_kept} kept on "
                    f"{'-' if kept is None else f'{kept:.0%}'}"
                    f"{'' if before is None else f' ({before:.0%} before moving)'}", json_mode=False)
    note(f"model {where}", quiet=quiet)


@shared_options("device", "json_out", "quiet", "force")
def directions_gansynth_command(
    model: Annotated[Optional[Path], typer.Option("--model", help="GANSynth model file or bundled name (default: "
                                                  "gansynth).", show_default=False)] = None,
    fit: FitOpt = False,
    out: OutOpt = None,
    notes: Annotated[int, typer.Option("--notes", min=50, max=100000, help="With --fit: generated notes the "
                                       "directions are fitted on (spread over MIDI 48, 60, 72).")] = 900,
    picture: PictureOpt = None,
    show: ShowOpt = None,
    *, device, json_out, quiet, force,
) -> None:
    """List a GANSynth model's latent directions, each with its measured effect: how far one unit step moves its attribute, and how often -2 to +2 moved it the named way with the pitch kept (pYIN).

    Use a shipped direction with --direction NAME=AMOUNT on sample, render, interpolate and export gansynth. The --picture rows are one timbre at MIDI 48, 60 and 72.

    The bundled gansynth carries none that pass (its figures are in the model card); fit a model's with --fit.

    Example: audiogen directions gansynth --model mine.safetensors --json
    """
    _directions("gansynth", model, fit, out, notes, picture, show, device=device, json_out=json_out, quiet=quiet,
                force=force, args={"model": model, "fit": fit, "out": out, "notes": notes, "picture": picture,
                                   "show": show})


@shared_options("device", "json_out", "quiet", "force")
def directions_samplevae_command(
    model: Annotated[Optional[Path], typer.Option("--model", help="SampleVAE model file or bundled name (default: "
                                                  "samplevae-drums).", show_default=False)] = None,
    fit: FitOpt = False,
    out: OutOpt = None,
    sounds: Annotated[int, typer.Option("--sounds", min=50, max=100000, help="With --fit: prior draws the "
                                        "directions are fitted on.")] = 900,
    picture: PictureOpt = None,
    show: ShowOpt = None,
    *, device, json_out, quiet, force,
) -> None:
    """List a SampleVAE model's latent directions, each with its measured effect: how far one unit step moves its attribute, and how often -2 to +2 moved it the named way (50 sounds per class) with the class kept.

    Use a shipped direction with --direction NAME=AMOUNT on sample and interpolate samplevae. The --picture rows are one sound of each of three classes.

    Example: audiogen directions samplevae --json
    """
    _directions("samplevae", model, fit, out, sounds, picture, show, device=device, json_out=json_out, quiet=quiet,
                force=force, args={"model": model, "fit": fit, "out": out, "sounds": sounds, "picture": picture,
                                   "show": show})
