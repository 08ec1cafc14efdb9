"""`audiogen sample samplevae`: new one-shots from the prior, and weighted latent mixes of files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import DirectionOpt, not_an_input, shared_options, writable_dir, writable_file
from audiogen.cli.output import emit_json, note, provenance, result_line, write_clip
from audiogen.cli.samplevae_options import OutRateOpt, SampleVAEModelOpt, WeightsOpt, parse_weights


@shared_options("audio_format", "subtype", "gain", "rng_seed", "device", "json_out", "quiet", "force")
def sample_samplevae_command(
    model: SampleVAEModelOpt = None,
    num: Annotated[int, typer.Option("--num", "-n", min=1, max=10000, help="Sounds to draw from the prior.")] = 5,
    out_dir: Annotated[Optional[Path], typer.Option("--out-dir", help="Folder for sample-000.wav ... (prior samples).",
                                                    show_default=False, callback=writable_dir)] = None,
    from_files: Annotated[Optional[list[Path]], typer.Option("--from", help="Mix these sounds' latents instead of "
                                                             "sampling the prior (one file: a reconstruction); "
                                                             "repeatable.", show_default=False, metavar="FILE")] = None,
    weights: WeightsOpt = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output file for --from (default: OUT_DIR/mix.wav).",
                                                show_default=False, callback=writable_file)] = None,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, help="Prior standard deviation.")] = 1.0,
    sample_rate: OutRateOpt = None,
    direction: DirectionOpt = None,
    *, audio_format, subtype, gain, rng_seed, device, json_out, quiet, force,
) -> None:
    """Generate one-shots with SampleVAE: from the prior, or a weighted latent mix of sounds.

    Example: audiogen sample samplevae -n 5 --out-dir new-drums/

    Example: audiogen sample samplevae --from kick.wav --from snare.wav --weights 1,2 --out mix.wav
    """
    import time

    from audiogen.errors import AudiogenError
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.latents import steer
    from audiogen.runtime.seeding import make_generator, seed_everything
    from audiogen.samplevae.generate import (
        class_table,
        classify_latents,
        decode_audio,
        encode_files,
        mix_latents,
        prior_latents,
    )
    from audiogen.samplevae.load import load_samplevae_model

    if from_files:
        mix_weights = parse_weights(weights, len(from_files))
        if out is None and out_dir is None:
            raise AudiogenError("--from needs --out FILE (or --out-dir DIR for DIR/mix.wav)")
        target = out if out is not None else out_dir / "mix.wav"
        not_an_input(target, *from_files)
    else:
        if weights is not None:
            raise AudiogenError("--weights needs --from files to weigh")
        if out is not None:
            raise AudiogenError("--out names the file of a --from mix; prior samples go to --out-dir DIR")
        if out_dir is None:
            raise AudiogenError("give --out-dir DIR for the samples (or --from FILE ... --out FILE for a mix)")
    torch_device = resolve_device(device)
    bundle = load_samplevae_model(model, torch_device)
    used_seed = seed_everything(rng_seed)
    generator = make_generator(used_seed)
    began = time.perf_counter()
    if from_files:
        means, _ = encode_files(bundle, from_files)
        z = mix_latents(means, mix_weights)[None]
    else:
        z = prior_latents(num, bundle.latent, temperature=temperature, generator=generator)
    z = steer(bundle, z, direction)
    waves = decode_audio(bundle.model, z, bundle.features, generator=generator)
    labels = class_table(classify_latents(bundle.model, z), bundle.classes) if bundle.classes else None
    seconds = time.perf_counter() - began
    files = []
    if from_files:
        write_clip(target, waves[0], bundle.features.sample_rate, sample_rate, audio_format, subtype, gain)
        files.append({"path": str(target), **({"class": labels[0]["class"]} if labels else {})})
    else:
        from audiogen.runtime.output_sets import output_set

        width = max(3, len(str(num - 1)))
        ext = audio_format.value if audio_format else "wav"
        with output_set(out_dir, "sample samplevae", force=force) as outputs:
            for i, wave in enumerate(waves):
                path = out_dir / f"sample-{i:0{width}d}.{ext}"
                write_clip(outputs.stage(path), wave, bundle.features.sample_rate, sample_rate, audio_format, subtype, gain)
                files.append({"path": str(path), **({"class": labels[i]["class"]} if labels else {})})
    if json_out:
        emit_json({"files": files, "seconds": round(seconds, 3), "model": bundle.path, "model_sha256": bundle.sha256,
                   **provenance("sample samplevae", {
                       "model": model, "num": num, "out_dir": out_dir, "from": [str(f) for f in from_files or []],
                       "weights": weights, "out": out, "temperature": temperature, "sample_rate": sample_rate,
                       "format": audio_format, "subtype": subtype, "gain": gain, "direction": direction, "device": str(torch_device)}, rng_seed=used_seed)})
    if from_files:
        parts = " + ".join(f"{w:g} x {f.name}" for w, f in zip(mix_weights, from_files))
        result_line(f"mixed {parts} -> {target}", json_mode=json_out)
    else:
        result_line(f"{len(files)} sounds from the prior (temperature {temperature:g}) in {seconds:.2f} s -> {out_dir}",
                    json_mode=json_out)
    if labels:
        note("classes: " + ", ".join(f"{Path(f['path']).name} {f['class']}" for f in files), quiet=quiet or json_out)
    note(f"model {bundle.path} (sha256 {bundle.sha256[:12]}), rng seed {used_seed}", quiet=quiet or json_out)
