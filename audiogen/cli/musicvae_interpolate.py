"""`audiogen interpolate musicvae`: a walk between two melodies through MusicVAE's latent space."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.musicvae_options import (
    BpmOpt,
    MusicVAEModelOpt,
    OutDirOpt,
    ProgramOpt,
    SoundfontOpt,
    TemperatureOpt,
    TrackOpt,
    WavOpt,
    writer_for,
)
from audiogen.cli.options import GainOpt, SampleRateOpt, shared_options
from audiogen.cli.output import emit_json, note, provenance, result_line


@shared_options("rng_seed", "device", "json_out", "quiet", "force")
def interpolate_musicvae_command(
    first: Annotated[Path, typer.Argument(help="MIDI or ABC file the walk starts from.", show_default=False,
                                          metavar="A")],
    second: Annotated[Path, typer.Argument(help="MIDI or ABC file the walk ends at.", show_default=False,
                                           metavar="B")],
    out_dir: OutDirOpt,
    model: MusicVAEModelOpt = None,
    steps: Annotated[int, typer.Option("--steps", min=2, max=1000, help="Melodies along the walk, both ends included.")] = 7,
    temperature: TemperatureOpt = 0.0,
    start_bar: Annotated[Optional[int], typer.Option("--start-bar", min=0, help="Use the windows starting at this bar "
                                                     "(0-based) in both files instead of their first.",
                                                     show_default=False)] = None,
    track: TrackOpt = None,
    wav: WavOpt = False,
    gain: GainOpt = 0.0,
    soundfont: SoundfontOpt = None,
    sample_rate: SampleRateOpt = 22050,
    bpm: BpmOpt = 120.0,
    program: ProgramOpt = 0,
    *, rng_seed, device, json_out, quiet, force,
) -> None:
    """Interpolate between two melodies: slerp between their encoder means, each step decoded to MIDI.

    Writes input-a.mid and input-b.mid (the windows as extracted), step-00.mid ... (the first and last are the model's reconstructions of A and B) and interpolation.mid (all steps in a row).

    Decoding is greedy (temperature 0) by default, so the ends are the model's best reconstructions.

    Example: audiogen interpolate musicvae a.mid b.mid --steps 7 --out-dir walk/
    """
    import time

    from audiogen.musicvae.attributes import measure
    from audiogen.musicvae.data import file_window
    from audiogen.musicvae.generate import decode, encode, step_accuracy
    from audiogen.musicvae.load import load_musicvae_model
    from audiogen.musicvae.melody_counts import per_melody_counts
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.latents import interpolation_path
    from audiogen.runtime.seeding import make_generator, seed_everything

    # Both inputs first: a bad file fails before the model loads.
    torch_device = resolve_device(device)
    loaded = load_musicvae_model(model, torch_device)
    window_a, melody_a, bar_a = file_window(first, loaded.bars, track=track, start_bar=start_bar)
    window_b, melody_b, bar_b = file_window(second, loaded.bars, track=track, start_bar=start_bar)
    used_seed = seed_everything(rng_seed)
    generator = make_generator(used_seed, torch_device)

    began = time.perf_counter()
    mu_a, _ = encode(loaded.model, window_a)
    mu_b, _ = encode(loaded.model, window_b)
    path = interpolation_path(mu_a[0], mu_b[0], steps)
    melodies = decode(loaded.model, path, temperature=temperature, generator=generator)
    seconds = time.perf_counter() - began

    accuracy_a = step_accuracy(melodies[0], window_a)
    accuracy_b = step_accuracy(melodies[-1], window_b)
    values = measure(melodies)
    in_scale = [None if v != v else round(float(v), 4) for v in per_melody_counts(melodies)["in_scale"]]
    with writer_for(out_dir, bpm=bpm, program=program, meter=None, wav=wav, soundfont=soundfont,
                    sample_rate=sample_rate, gain_db=gain, command="interpolate musicvae", force=force,
                    meters=loaded.extra.get("meters")) as writer:
        inputs = {"a": {"file": str(first), "start_bar": bar_a, "meter": melody_a.meter(bar_a),
                        **writer.write(window_a, "input-a")},
                  "b": {"file": str(second), "start_bar": bar_b, "meter": melody_b.meter(bar_b),
                        **writer.write(window_b, "input-b")}}
        width = max(2, len(str(steps - 1)))
        files = [{"index": i, "t": round(i / (steps - 1), 6), **writer.write(m, f"step-{i:0{width}d}"),
                  "note_density": float(values["note_density"][i]), "in_scale": in_scale[i]}
                 for i, m in enumerate(melodies)]
        whole = writer.write(list(melodies), "interpolation")

    if json_out:
        emit_json({"out_dir": out_dir, "inputs": inputs, "steps": files, "interpolation": whole,
                   "reconstruction_accuracy": {"a": accuracy_a, "b": accuracy_b}, "seconds": round(seconds, 3),
                   "model": loaded.path, "model_sha256": loaded.sha256,
                   **provenance("interpolate musicvae", {
                       "a": first, "b": second, "model": model, "steps": steps, "temperature": temperature,
                       "start_bar": start_bar, "track": track, "wav": wav, "gain": gain, "bpm": bpm, "program": program,
                       "out_dir": out_dir, "device": str(torch_device)}, rng_seed=used_seed)})
    result_line(f"{steps} steps from {first} to {second} -> {out_dir}; reconstruction accuracy of the ends "
                f"{accuracy_a:.3f} (A), {accuracy_b:.3f} (B); notes in the best-fitting diatonic scale by step: "
                f"{' '.join('-' if v is None else f'{v:.2f}' for v in in_scale)}", json_mode=json_out)
    note(f"model {loaded.path} (sha256 {loaded.sha256[:12]}), temperature {temperature:g}, rng seed {used_seed}",
         quiet=quiet or json_out)
