"""`audiogen encode gansynth`: a real note's latent, by optimisation (GAN inversion)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.gansynth_sample import GANSynthModelOpt
from audiogen.cli.options import GainOpt, Subtype, shared_options, writable_file
from audiogen.cli.output import emit_json, provenance, result_line, write_clip


@shared_options("device", "json_out", "quiet")
def encode_gansynth_command(
    audio: Annotated[Path, typer.Argument(help="A real note (any rate; 4 s at 16 kHz is used).", show_default=False,
                                          metavar="NOTE.wav")],
    pitch: Annotated[int, typer.Option("--pitch", help="The note's MIDI pitch.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="The latent, a .npy file.", show_default=False, callback=writable_file)],
    steps: Annotated[int, typer.Option("--steps", min=1, max=100000, help="Optimisation steps.")] = 300,
    lr: Annotated[float, typer.Option("--lr", min=0.0, max=10.0, help="Adam learning rate (the latent lives on a sphere of radius about 16: larger steps jump across it).")] = 0.05,
    resynth: Annotated[Optional[Path], typer.Option("--resynth", help="Also write the generator's note from the "
                                                    "latent here.", show_default=False, callback=writable_file)] = None,
    gain: GainOpt = 0.0,
    model: GANSynthModelOpt = None,
    *, device, json_out, quiet,
) -> None:
    """Find a latent whose generated note matches a real one (GAN inversion): Adam on the
    spectrogram distance from the prior's mean. `interpolate gansynth --from-latent` takes it.

    Example: audiogen encode gansynth cello.wav --pitch 48 --out cello.npy
    """
    import numpy as np
    import torch

    from audiogen.cli.gansynth_sample import parse_pitches
    from audiogen.data.skips import warn
    from audiogen.dsp.audio_io import load_audio
    from audiogen.gansynth.generate import generate_notes, project_note
    from audiogen.gansynth.load import load_gansynth_model
    from audiogen.runtime.atomic import atomic_outputs
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress

    if out.suffix != ".npy":
        from audiogen.errors import BadInputError

        raise BadInputError(out, "the latent is written as .npy; name the file NAME.npy")
    torch_device = resolve_device(device)
    bundle = load_gansynth_model(model, torch_device)
    parse_pitches([pitch], None, bundle.pitch_range)
    wave = load_audio(audio, sr=bundle.sample_rate)
    length = bundle.spec.audio_length
    if wave.shape[-1] != length and not (quiet or json_out):
        warn(f"{audio}: {wave.shape[-1] / bundle.sample_rate:.2f} s long; "
             f"{'padded with silence' if wave.shape[-1] < length else 'cut'} to 4 s")
    wave = torch.nn.functional.pad(wave[..., :length], (0, max(0, length - wave.shape[-1])))
    with make_progress(quiet=quiet or json_out, unit="step") as progress:
        task = progress.add_task("encode", total=steps)
        z, losses = project_note(bundle, wave, pitch, steps=steps, lr=lr, on_step=lambda: progress.advance(task))
    with atomic_outputs() as outputs:  # the latent and its resynthesis, both or neither
        with open(outputs.path(out), "wb") as f:
            np.save(f, z.numpy().astype(np.float32))
        if resynth is not None:
            write_clip(outputs.path(resynth), generate_notes(bundle, z[None], torch.tensor([pitch]))[0],
                       bundle.sample_rate, None, None, Subtype.PCM_16, gain)
    if json_out:
        emit_json({"out": str(out), "start_loss": losses[0], "final_loss": losses[-1], "steps": steps,
                   "resynth": str(resynth) if resynth else None, "model": bundle.path, "model_sha256": bundle.sha256,
                   **provenance("encode gansynth", {"audio": audio, "pitch": pitch, "out": out, "steps": steps,
                                                    "lr": lr, "model": model, "device": str(torch_device)})})
    result_line(f"{audio} -> {out}: spectrogram distance {losses[0]:.4f} -> {losses[-1]:.4f} in {steps} steps",
                json_mode=json_out)
