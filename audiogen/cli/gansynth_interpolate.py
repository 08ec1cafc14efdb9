"""`audiogen interpolate gansynth`: timbre walks (slerp between latents at one pitch) and pitch
walks (one latent across pitches)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.gansynth_sample import GANSynthModelOpt
from audiogen.cli.options import DirectionOpt, shared_options, writable_dir
from audiogen.cli.output import emit_json, note, provenance, result_line, write_clip

LatentOpt = Annotated[Optional[Path], typer.Option(help="A latent from `audiogen encode gansynth` (.npy).",
                                                   show_default=False)]


def load_latent(path: Path, size: int):
    """A (size,) latent from a .npy file; BadInputError for anything else."""
    import numpy as np
    import torch

    from audiogen.errors import BadInputError, load_failure_reason, require_file

    require_file(path, "a latent .npy file")
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise BadInputError(path, f"not a .npy latent ({load_failure_reason(e)})") from None
    if z.shape not in ((size,), (1, size)) or not np.issubdtype(z.dtype, np.floating):
        raise BadInputError(path, f"holds a {z.dtype} array of shape {z.shape}; this model's latents are ({size},) floats")
    return torch.from_numpy(z.astype(np.float32).reshape(size))


@shared_options("audio_format", "subtype", "gain", "device", "json_out", "quiet", "force")
def interpolate_gansynth_command(
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for the steps and the whole walk.",
                                          show_default=False, callback=writable_dir)],
    pitch: Annotated[Optional[int], typer.Option("--pitch", help="MIDI pitch of a timbre walk.", show_default=False)] = None,
    pitches: Annotated[Optional[str], typer.Option("--pitches", help="Walk these pitches (e.g. 48-72) with one "
                                                   "latent instead.", show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", min=2, max=1000, help="Notes in a timbre walk, ends included.")] = 8,
    from_rng_seed: Annotated[int, typer.Option("--from-rng-seed", help="Latent of the walk's start (or the pitch "
                                               "walk's latent).")] = 0,
    to_rng_seed: Annotated[int, typer.Option("--to-rng-seed", help="Latent of the walk's end.")] = 1,
    from_latent: Annotated[Optional[Path], typer.Option("--from-latent", help="Start latent (.npy from `encode "
                                                        "gansynth`) instead of --from-rng-seed.", show_default=False)] = None,
    to_latent: Annotated[Optional[Path], typer.Option("--to-latent", help="End latent (.npy) instead of --to-rng-seed.",
                                                      show_default=False)] = None,
    model: GANSynthModelOpt = None,
    direction: DirectionOpt = None,
    *, audio_format, subtype, gain, device, json_out, quiet, force,
) -> None:
    """Interpolate timbres at a fixed pitch (slerp in latent space), or walk pitches with one timbre.

    Writes step-NN.wav (or pitchNNN.wav) and walk.wav, all the notes in a row, 1 s apart.

    Example: audiogen interpolate gansynth --pitch 60 --steps 8 --from-rng-seed 3 --to-rng-seed 7 --out-dir timbre-walk/
    """
    import numpy as np
    import torch

    from audiogen.cli.gansynth_sample import parse_pitches
    from audiogen.errors import AudiogenError
    from audiogen.runtime.latents import steer
    from audiogen.gansynth.generate import generate_notes, latent_from_seed
    from audiogen.gansynth.load import load_gansynth_model
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.latents import interpolation_path

    if (pitch is None) == (pitches is None):
        raise AudiogenError("give --pitch N for a timbre walk or --pitches LOW-HIGH for a pitch walk")
    torch_device = resolve_device(device)
    bundle = load_gansynth_model(model, torch_device)
    size = bundle.config.latent
    start = load_latent(from_latent, size) if from_latent else latent_from_seed(from_rng_seed, size)
    ext = audio_format.value if audio_format else "wav"
    if pitches is not None:
        walk = parse_pitches(None, pitches, bundle.pitch_range)
        z = start.repeat(len(walk), 1)
        names = [f"pitch{p:03d}.{ext}" for p in walk]
    else:
        chosen = parse_pitches([pitch], None, bundle.pitch_range)[0]
        end = load_latent(to_latent, size) if to_latent else latent_from_seed(to_rng_seed, size)
        z = interpolation_path(start, end, steps).float()
        walk = [chosen] * steps
        names = [f"step-{i:02d}.{ext}" for i in range(steps)]
    waves = generate_notes(bundle, steer(bundle, z, direction), torch.tensor(walk))
    from audiogen.runtime.output_sets import output_set

    hop = bundle.sample_rate  # notes 1 s apart, each ringing out under the next
    row = np.zeros(hop * (len(waves) - 1) + waves.shape[1], np.float32)
    for i, wave in enumerate(waves.numpy()):
        row[i * hop:i * hop + len(wave)] += wave
    row *= min(1.0, 0.99 / max(float(np.abs(row).max()), 1e-9))
    with output_set(out_dir, "interpolate gansynth", force=force) as outputs:
        files = []
        for name, wave in zip(names, waves):
            write_clip(outputs.stage(out_dir / name), wave, bundle.sample_rate, None, audio_format, subtype, gain)
            files.append(str(out_dir / name))
        whole = out_dir / f"walk.{ext}"
        write_clip(outputs.stage(whole), torch.from_numpy(row), bundle.sample_rate, None, audio_format, subtype, gain)
    if json_out:
        emit_json({"files": files, "walk": str(whole), "pitches": walk, "model": bundle.path,
                   "model_sha256": bundle.sha256, **provenance("interpolate gansynth", {
                       "pitch": pitch, "pitches": pitches, "steps": steps, "from_rng_seed": from_rng_seed,
                       "to_rng_seed": to_rng_seed, "from_latent": from_latent, "to_latent": to_latent,
                       "model": model, "out_dir": out_dir, "device": str(torch_device)})})
    what = f"pitches {walk[0]}-{walk[-1]} with one latent" if pitches else f"{steps} steps at pitch {walk[0]}"
    result_line(f"{what} -> {out_dir} ({len(files)} notes + {Path(whole).name})", json_mode=json_out)
    note(f"model {bundle.path} (sha256 {bundle.sha256[:12]})", quiet=quiet or json_out)
