"""`audiogen render gansynth` (a MIDI file played by one generated instrument) and
`audiogen encode gansynth` (a real note's latent, by optimisation)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.gansynth_sample import GANSynthModelOpt
from audiogen.cli.options import DeviceOpt, FormatOpt, GainOpt, JsonOpt, QuietOpt, RngSeedOpt, Subtype, SubtypeOpt, writable_file
from audiogen.cli.output import emit_json, note, provenance, result_line, write_clip


MIN_GLIDE_SECONDS = 0.05


def parse_seconds(text: str | None) -> float | None:
    """'2s', '2', '500ms' -> seconds; None or 'none' -> None; AudiogenError otherwise."""
    import re

    from audiogen.errors import AudiogenError

    if text is None or text.strip().lower() in ("", "none", "0"):
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*", text)
    if not m or float(m.group(1)) <= 0:
        raise AudiogenError(f"--interpolate-every {text!r}: expected a duration such as 2s or 500ms")
    seconds = float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)
    if seconds < MIN_GLIDE_SECONDS:
        raise AudiogenError(f"--interpolate-every {text}: must be at least {MIN_GLIDE_SECONDS * 1000:.0f}ms "
                            "(a new timbre every few notes at most)")
    return seconds


def render_gansynth_command(
    midi: Annotated[Path, typer.Argument(help="MIDI file to play.", show_default=False, metavar="SONG.mid")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output audio file.", show_default=False, callback=writable_file)],
    interpolate_every: Annotated[Optional[str], typer.Option("--interpolate-every", help="Glide the timbre to a new "
                                                             "random latent every so often (e.g. 2s); default one "
                                                             "latent for the piece.", show_default=False)] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse notes outside the model's pitch range instead "
                                         "of moving them by octaves.")] = False,
    check_pitch: Annotated[bool, typer.Option("--check-pitch", help="Read the rendered melody back with pYIN: "
                                              "the share of notes within a semitone over their first 0.4 s, and "
                                              "the spread of the note levels.")] = False,
    model: GANSynthModelOpt = None,
    audio_format: FormatOpt = None,
    subtype: SubtypeOpt = Subtype.PCM_16,
    gain: GainOpt = 0.0,
    rng_seed: RngSeedOpt = None,
    device: DeviceOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Play a MIDI file with one GANSynth instrument, as a sampler would: every note generated at
    its pitch and made as loud as the others, velocity through the samplers' default curve,
    10 ms attack and 0.3 s release, mixed without clipping (16 kHz). `--check-pitch` reads the
    result back with pYIN, an f0 tracker independent of the model.

    Example: audiogen render gansynth prelude.mid --out prelude.wav --rng-seed 7 --interpolate-every 2s
    """
    import math
    import time

    import torch

    from audiogen.data.skips import warn
    from audiogen.errors import AudiogenError
    from audiogen.gansynth.generate import prior_latents
    from audiogen.gansynth.load import load_gansynth_model
    from audiogen.gansynth.render import fit_to_range, read_played_notes, render_midi
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.runtime.seeding import make_generator, seed_everything

    every = parse_seconds(interpolate_every)
    notes, drums = read_played_notes(midi)
    torch_device = resolve_device(device)
    bundle = load_gansynth_model(model, torch_device)
    low, high = bundle.pitch_range
    outside = [n.pitch for n in notes if not low <= n.pitch <= high]
    if outside and strict:
        raise AudiogenError(f"{midi}: {len(outside)} notes lie outside the model's range {low}-{high} "
                            f"(e.g. pitch {outside[0]}); drop --strict to move them by octaves")
    notes, moved = fit_to_range(notes, low, high)
    quiet_notes = quiet or json_out
    if drums and not quiet_notes:
        warn(f"{midi}: {drums} drum notes ignored")
    if moved and not quiet_notes:
        warn(f"{midi}: {moved} notes outside the model's range {low}-{high} moved by octaves")
    used_seed = seed_everything(rng_seed)
    anchors_needed = 1 if every is None else math.ceil(max(n.start for n in notes) / every) + 2
    anchors = prior_latents(anchors_needed, bundle.config.latent, generator=make_generator(used_seed))
    began = time.perf_counter()
    with make_progress(quiet=quiet_notes, unit="note") as progress:
        tasks: list = []
        wave, info = render_midi(bundle, notes, anchors, interpolate_every=every,
                                 on_start=lambda n: tasks.append(progress.add_task("render", total=n)),
                                 on_notes=lambda n: progress.advance(tasks[0], n))
    seconds = time.perf_counter() - began
    if info["cut_to_4s"] and not quiet_notes:
        warn(f"{midi}: {info['cut_to_4s']} notes longer than 3.7 s were cut to GANSynth's 4-s notes")
    write_clip(out, torch.from_numpy(wave), bundle.sample_rate, None, audio_format, subtype, gain)
    info = {**info, "drum_notes_ignored": drums, "transposed": moved, "render_seconds": round(seconds, 2)}
    if check_pitch:
        from audiogen.gansynth.pitch_check import melody_report

        info["pitch_check"] = melody_report(wave, notes, bundle.sample_rate)
    if json_out:
        emit_json({"out": str(out), **info, "model": bundle.path, "model_sha256": bundle.sha256,
                   **provenance("render gansynth", {"midi": midi, "out": out, "interpolate_every": interpolate_every,
                                                    "strict": strict, "model": model, "device": str(torch_device)},
                                rng_seed=used_seed)})
    result_line(f"{midi} -> {out}: {info['notes']} notes ({info['generated_notes']} generated), "
                f"{info['seconds']:.1f} s of audio in {seconds:.1f} s", json_mode=json_out)
    if check_pitch:
        check = info["pitch_check"]
        if check["notes"]:
            note(f"pYIN reads {check['onset_within_semitone']:.0%} of {check['notes']} notes within a semitone over "
                 f"their first 0.4 s (voiced {check['onset_voiced']:.0%}); note levels spread "
                 f"{check['level_spread_db']:.1f} dB (90th - 10th percentile)", quiet=quiet_notes)
    note(f"model {bundle.path} (sha256 {bundle.sha256[:12]}), rng seed {used_seed}", quiet=quiet_notes)


def encode_gansynth_command(
    audio: Annotated[Path, typer.Argument(help="A real note (any rate; 4 s at 16 kHz is used).", show_default=False,
                                          metavar="NOTE.wav")],
    pitch: Annotated[int, typer.Option("--pitch", help="The note's MIDI pitch.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="The latent, a .npy file.", show_default=False, callback=writable_file)],
    steps: Annotated[int, typer.Option("--steps", min=1, max=100000, help="Optimisation steps.")] = 300,
    lr: Annotated[float, typer.Option("--lr", min=0.0, help="Adam learning rate.")] = 0.05,
    resynth: Annotated[Optional[Path], typer.Option("--resynth", help="Also write the generator's note from the "
                                                    "latent here.", show_default=False, callback=writable_file)] = None,
    gain: GainOpt = 0.0,
    model: GANSynthModelOpt = None,
    device: DeviceOpt = "auto",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
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
