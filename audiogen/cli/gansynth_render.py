"""`audiogen render gansynth`: a MIDI file played by one generated instrument."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.gansynth_sample import GANSynthModelOpt
from audiogen.cli.options import DirectionOpt, shared_options, writable_file
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


@shared_options("audio_format", "subtype", "gain", "rng_seed", "device", "json_out", "quiet")
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
    direction: DirectionOpt = None,
    *, audio_format, subtype, gain, rng_seed, device, json_out, quiet,
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
    from audiogen.runtime.latents import steer
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
    anchors = steer(bundle, prior_latents(anchors_needed, bundle.config.latent, generator=make_generator(used_seed)),
                    direction)
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
