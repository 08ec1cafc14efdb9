"""`audiogen export gansynth`: one generated timbre as a SoundFont (.sf2) or SFZ instrument."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.gansynth_interpolate import load_latent
from audiogen.cli.gansynth_sample import GANSynthModelOpt
from audiogen.cli.options import DirectionOpt, shared_options
from audiogen.cli.output import emit_json, note, provenance, result_line


@shared_options("rng_seed", "device", "json_out", "quiet")
def export_gansynth_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="The instrument: NAME.sf2, or NAME.sfz with its samples "
                                      "in the folder NAME/ beside it.", show_default=False)],
    pitches: Annotated[Optional[str], typer.Option("--pitches", help="MIDI keys the instrument covers, LOW-HIGH "
                                                   "(default: the model's range, 24-84).", show_default=False)] = None,
    every: Annotated[int, typer.Option("--every", help="Semitones between samples (1: a sample per key; each "
                                       "sample plays the keys nearest it).")] = 1,
    from_latent: Annotated[Optional[Path], typer.Option("--from-latent", help="The timbre: a latent .npy from "
                                                        "`encode gansynth` (default: the prior draw of --rng-seed).",
                                                        show_default=False)] = None,
    to_rng_seed: Annotated[Optional[int], typer.Option("--to-rng-seed", help="With --at: a point on the walk "
                                                       "towards this seed's latent.", show_default=False)] = None,
    to_latent: Annotated[Optional[Path], typer.Option("--to-latent", help="With --at: a point on the walk towards "
                                                      "this latent (.npy).", show_default=False)] = None,
    at: Annotated[Optional[float], typer.Option("--at", min=0.0, max=1.0, help="Where on the walk (slerp) from the "
                                                "timbre to --to-rng-seed/--to-latent: 0 the start, 1 the end.",
                                                show_default=False)] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Preset name (default: the file's name).",
                                                show_default=False)] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing instrument (and its sample "
                                        "folder).")] = False,
    model: GANSynthModelOpt = None,
    direction: DirectionOpt = None,
    *, rng_seed, device, json_out, quiet,
) -> None:
    """Write one GANSynth timbre as a multisampled instrument that FluidSynth, a DAW or any SF2/SFZ
    sampler plays: one 4-s note per key (or every --every keys), equally loud, with the renderer's
    10 ms attack and 0.3 s release and the samplers' default velocity curve.

    Example: audiogen export gansynth --out flute.sf2 --rng-seed 7
    """
    from audiogen.data.ranges import parse_int_range
    from audiogen.errors import AudiogenError
    from audiogen.gansynth.export import check_destination, export_instrument
    from audiogen.runtime.latents import steer
    from audiogen.gansynth.generate import latent_from_seed
    from audiogen.gansynth.load import load_gansynth_model
    from audiogen.runtime.atomic import check_writable
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.latents import slerp
    from audiogen.runtime.progress import make_progress
    from audiogen.runtime.seeding import seed_everything

    if (to_rng_seed is not None or to_latent is not None) != (at is not None):
        raise AudiogenError("--at goes with --to-rng-seed or --to-latent (a point on the walk between two timbres)")
    if to_rng_seed is not None and to_latent is not None:
        raise AudiogenError("give --to-rng-seed or --to-latent, not both")
    if from_latent is not None and rng_seed is not None:
        raise AudiogenError("give --from-latent or --rng-seed for the timbre, not both")
    low = high = None
    if pitches is not None:
        low, high = parse_int_range(pitches, "--pitches", 0, 127)
    check_destination(out, force)
    check_writable(out)
    torch_device = resolve_device(device)
    bundle = load_gansynth_model(model, torch_device)
    size = bundle.config.latent
    used_seed = seed_everything(rng_seed)
    z = load_latent(from_latent, size) if from_latent else latent_from_seed(used_seed, size)
    if at is not None:
        end = load_latent(to_latent, size) if to_latent else latent_from_seed(to_rng_seed, size)
        z = slerp(z, end, at)
    z = steer(bundle, z, direction)
    with make_progress(quiet=quiet or json_out, unit="note") as progress:
        tasks: list = []
        result = export_instrument(bundle, z, out, low=low, high=high, every=every, force=force, name=name,
                                   comment=f"GANSynth timbre from {bundle.path.name} (sha256 {bundle.sha256[:12]}), "
                                           f"made by audiogen export gansynth",
                                   on_start=lambda n: tasks.append(progress.add_task("export", total=n)),
                                   on_notes=lambda n: progress.advance(tasks[0], n))
    if json_out:
        emit_json({**result, "model": bundle.path, "model_sha256": bundle.sha256,
                   **provenance("export gansynth", {"out": out, "pitches": pitches, "every": every,
                                                    "from_latent": from_latent, "to_rng_seed": to_rng_seed,
                                                    "to_latent": to_latent, "at": at, "model": model,
                                                    "device": str(torch_device)}, rng_seed=used_seed)})
    low, high = result["keys"]
    result_line(f"wrote {out}: {result['samples']} samples covering MIDI {low}-{high} "
                f"(one every {every} semitone{'s' if every > 1 else ''})", json_mode=json_out)
    note(f"model {bundle.path} (sha256 {bundle.sha256[:12]}), rng seed {used_seed}", quiet=quiet or json_out)
