"""`audiogen sample gansynth`: 4-second 16 kHz notes at chosen pitches, one WAV each."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import DirectionOpt, shared_options, writable_dir
from audiogen.cli.output import emit_json, note, provenance, result_line, write_clip

GANSynthModelOpt = Annotated[Optional[Path], typer.Option("--model", help="GANSynth model file or bundled name "
                                                          "(default: gansynth).", show_default=False)]


def parse_pitches(pitch: list[int] | None, pitches: str | None, pitch_range: tuple[int, int]) -> list[int]:
    """--pitch values and a --pitches range, in order and distinct; AudiogenError for one outside the model's range."""
    from audiogen.data.ranges import parse_int_range
    from audiogen.errors import AudiogenError

    chosen = list(pitch or [])
    if pitches:
        low, high = parse_int_range(pitches, "--pitches", 0, 127)
        chosen += range(low, high + 1)
    if not chosen:
        raise AudiogenError("give --pitch N (repeatable) or --pitches LOW-HIGH")
    low, high = pitch_range
    outside = [p for p in chosen if not low <= p <= high]
    if outside:
        option = "--pitch" if outside[0] in (pitch or []) else "--pitches"
        raise AudiogenError(f"{option} {outside[0]}: outside this model's range {low}-{high}")
    return list(dict.fromkeys(chosen))


@shared_options("audio_format", "subtype", "gain", "rng_seed", "device", "json_out", "quiet", "force")
def sample_gansynth_command(
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for pitchNNN-I.wav files.", show_default=False, callback=writable_dir)],
    pitch: Annotated[Optional[list[int]], typer.Option("--pitch", help="MIDI pitch; repeatable.", show_default=False)] = None,
    pitches: Annotated[Optional[str], typer.Option("--pitches", help="A range of MIDI pitches, e.g. 48-72.",
                                                   show_default=False)] = None,
    num: Annotated[int, typer.Option("--num", "-n", min=1, max=10000, help="Notes per pitch.")] = 1,
    same_latent: Annotated[bool, typer.Option("--same-latent", help="One timbre for every pitch: note I of each "
                                              "pitch shares latent I.")] = False,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, max=10.0, help="Latent standard deviation "
                                               "(below 1: safer, less varied timbres).")] = 1.0,
    model: GANSynthModelOpt = None,
    direction: DirectionOpt = None,
    *, audio_format, subtype, gain, rng_seed, device, json_out, quiet, force,
) -> None:
    """Generate notes with GANSynth: 16 kHz, 4 s, one WAV per pitch and index.

    Example: audiogen sample gansynth --pitches 48-60 -n 2 --same-latent --out-dir notes/
    """
    import time

    from audiogen.runtime.latents import steer
    from audiogen.gansynth.generate import generate_notes, note_latents
    from audiogen.gansynth.load import load_gansynth_model
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.output_sets import output_set
    from audiogen.runtime.seeding import make_generator, seed_everything

    torch_device = resolve_device(device)
    bundle = load_gansynth_model(model, torch_device)
    chosen = parse_pitches(pitch, pitches, bundle.pitch_range)
    used_seed = seed_everything(rng_seed)
    generator = make_generator(used_seed)
    z, pitch_list = note_latents(num, chosen, bundle.config.latent, same_latent=same_latent,
                                 temperature=temperature, generator=generator)
    z = steer(bundle, z, direction)
    began = time.perf_counter()
    waves = generate_notes(bundle, z, pitch_list)
    seconds = time.perf_counter() - began
    ext = audio_format.value if audio_format else "wav"
    files = []
    with output_set(out_dir, "sample gansynth", force=force) as outputs:
        for k, (p, wave) in enumerate(zip(pitch_list.tolist(), waves)):
            path = out_dir / f"pitch{p:03d}-{k % num}.{ext}"
            write_clip(outputs.stage(path), wave, bundle.sample_rate, None, audio_format, subtype, gain)
            files.append({"path": str(path), "pitch": p, "index": k % num})
    if json_out:
        emit_json({"files": files, "seconds": round(seconds, 3), "notes_per_s": round(len(files) / max(seconds, 1e-9), 1),
                   "model": bundle.path, "model_sha256": bundle.sha256, "sample_rate": bundle.sample_rate,
                   **provenance("sample gansynth", {
                       "model": model, "pitch": pitch, "pitches": pitches, "num": num, "same_latent": same_latent,
                       "temperature": temperature, "out_dir": out_dir, "format": audio_format, "subtype": subtype, "gain": gain,
                       "device": str(torch_device)}, rng_seed=used_seed)})
    result_line(f"{len(files)} notes ({len(chosen)} pitches x {num}{', one latent per index' if same_latent else ''}) "
                f"in {seconds:.2f} s -> {out_dir}", json_mode=json_out)
    note(f"model {bundle.path} (sha256 {bundle.sha256[:12]}), rng seed {used_seed}", quiet=quiet or json_out)
