"""`audiogen fit musicvae`: fit what a trained MusicVAE samples from (the latent prior, the bar forms)
on its training windows, for a model file that has none; weights and record unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.musicvae_options import MusicVAEModelOpt, TrackOpt
from audiogen.cli.options import shared_options, writable_file
from audiogen.cli.output import emit_json, note, provenance, result_line


@shared_options("strict", "json_out", "quiet")
def fit_musicvae_command(
    data: Annotated[list[Path], typer.Option("--data", help="The model's training melodies: a .npz window set from "
                                             "`data melodies`, MIDI/ABC files or folders; repeatable.",
                                             show_default=False, metavar="FILE|DIR")],
    out: Annotated[Path, typer.Option("--out", help="The model file to write (.safetensors).", show_default=False,
                                      callback=writable_file)],
    model: MusicVAEModelOpt = None,
    heldout_tunes: Annotated[Optional[Path], typer.Option(
        "--heldout-tunes", help="Leave out the melodies of this window set (the run's heldout.npz), as training did.",
        show_default=False, metavar="NPZ")] = None,
    track: TrackOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out.")] = False,
    *, strict, json_out, quiet,
) -> None:
    """Fit a MusicVAE's sampling on its training windows: the Gaussian of their latent codes (the default prior of sample musicvae) and, for a hierarchical model, the bar forms new melodies repeat in.

    Writes a copy of the model file with them; its weights, config and training record are unchanged. `train musicvae` does this itself at export: use this for a model file trained before.

    Example: audiogen fit musicvae --model old16.safetensors --data folk-16bar.npz --heldout-tunes heldout.npz --out new16.safetensors
    """
    from audiogen.data.skips import SkipLog
    from audiogen.errors import BadInputError
    from audiogen.musicvae.sampling_fit import refit_model_file

    if out.suffix.lower() != ".safetensors":
        raise BadInputError(out, "a model file ends in .safetensors")
    if out.exists() and not force:
        raise BadInputError(out, "already exists; use --force to replace it")
    from audiogen.cli.options import not_an_input
    from audiogen.runtime.assets import resolve_model

    not_an_input(out, Path(resolve_model(model or "musicvae-2bar")))
    summary = refit_model_file(model or "musicvae-2bar", data, out, heldout_tunes=heldout_tunes, track=track,
                               skips=SkipLog(strict=strict))
    if json_out:
        emit_json({**summary, **provenance("fit musicvae", {"data": [str(p) for p in data], "out": out,
                                                            "model": model, "heldout_tunes": heldout_tunes,
                                                            "track": track, "force": force})})
        return
    meta = summary["sampling"]
    forms = f", {meta['forms']} bar forms" if "forms" in meta else ""
    result_line(f"{out}: {meta['prior']} prior from {meta['prior_windows']} of {summary['windows']} training windows "
                f"({summary['melodies']} melodies, {summary['heldout_windows']} held-out windows left out){forms}",
                json_mode=False)
    note("sample with it: audiogen sample musicvae --model " + str(out), quiet=quiet)
