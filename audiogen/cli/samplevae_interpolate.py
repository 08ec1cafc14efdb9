"""`audiogen interpolate samplevae`: morph one sound into another through the latent space."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from audiogen.cli.options import DirectionOpt, shared_options, writable_dir
from audiogen.cli.output import emit_json, note, provenance, result_line, write_clip
from audiogen.cli.samplevae_options import OutRateOpt, SampleVAEModelOpt


@shared_options("audio_format", "subtype", "gain", "rng_seed", "device", "json_out", "quiet", "force")
def interpolate_samplevae_command(
    file_a: Annotated[Path, typer.Argument(help="Start sound.", show_default=False, metavar="A")],
    file_b: Annotated[Path, typer.Argument(help="End sound.", show_default=False, metavar="B")],
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for step-00.wav ... and interpolation.wav.",
                                          show_default=False, callback=writable_dir)],
    steps: Annotated[int, typer.Option("--steps", min=2, max=1000, help="Sounds on the path, both ends included.")] = 8,
    model: SampleVAEModelOpt = None,
    sample_rate: OutRateOpt = None,
    direction: DirectionOpt = None,
    *, audio_format, subtype, gain, rng_seed, device, json_out, quiet, force,
) -> None:
    """Morph sound A into sound B along the straight line between their latent means.

    Writes step-00 (A decoded) ... step-NN (B decoded) and interpolation.wav (all steps, 0.25 s apart).

    Example: audiogen interpolate samplevae kick.wav snare.wav --steps 8 --out-dir morph/
    """
    import torch

    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.latents import steer
    from audiogen.runtime.seeding import make_generator, seed_everything
    from audiogen.samplevae.generate import decode_audio, encode_files, interpolate_latents
    from audiogen.samplevae.load import load_samplevae_model

    torch_device = resolve_device(device)
    bundle = load_samplevae_model(model, torch_device)
    used_seed = seed_everything(rng_seed)
    generator = make_generator(used_seed)
    means, _ = encode_files(bundle, [file_a, file_b])
    z = interpolate_latents(means[0], means[1], steps)
    z = steer(bundle, z, direction)
    waves = decode_audio(bundle.model, z, bundle.features, generator=generator)
    rate = bundle.features.sample_rate
    ext = audio_format.value if audio_format else "wav"
    width = max(2, len(str(steps - 1)))
    from audiogen.runtime.output_sets import output_set

    files = []
    gap = torch.zeros(rate // 4)
    joined = torch.cat([torch.cat([w, gap]) for w in waves])
    with output_set(out_dir, "interpolate samplevae", force=force) as outputs:
        for i, wave in enumerate(waves):
            path = out_dir / f"step-{i:0{width}d}.{ext}"
            write_clip(outputs.stage(path), wave, rate, sample_rate, audio_format, subtype, gain)
            files.append(str(path))
        together = out_dir / f"interpolation.{ext}"
        write_clip(outputs.stage(together), joined, rate, sample_rate, audio_format, subtype, gain)
    if json_out:
        emit_json({"files": files, "interpolation": str(together), "model": bundle.path,
                   "model_sha256": bundle.sha256, **provenance("interpolate samplevae", {
                       "a": file_a, "b": file_b, "steps": steps, "out_dir": out_dir, "model": model,
                       "sample_rate": sample_rate, "format": audio_format, "subtype": subtype, "gain": gain,
                       "direction": direction, "device": str(torch_device)}, rng_seed=used_seed)})
    result_line(f"{steps} steps from {file_a.name} to {file_b.name} -> {out_dir} (and {together.name})",
                json_mode=json_out)
    note(f"model {bundle.path} (sha256 {bundle.sha256[:12]}), rng seed {used_seed}", quiet=quiet or json_out)
