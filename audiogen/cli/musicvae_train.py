"""`audiogen train musicvae`: the melody VAE (2-bar flat, 16-bar hierarchical or flat)."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.musicvae_options import TrackOpt
from audiogen.cli.options import (
    CheckpointEveryOpt,
    ResumeOpt,
    TimeLimitOpt,
    parse_transpose,
    requested_fields,
    shared_options,
    writable_dir,
)
from audiogen.cli.output import compare_with_bundled, emit_json, note, provenance, result_line
from audiogen.runtime.assets import bundled_metadata


class MusicVAEConfigName(str, Enum):
    two_bar = "2bar"
    sixteen_bar = "16bar"
    sixteen_bar_flat = "16bar-flat"
    sixteen_bar_v1 = "16bar-v1"
    sixteen_bar_v1_flat = "16bar-v1-flat"
    two_bar_paper = "2bar-paper"
    sixteen_bar_paper = "16bar-paper"
    tiny = "tiny"


@shared_options("device", "json_out", "quiet")
def train_musicvae_command(
    ctx: typer.Context,
    data: Annotated[list[Path], typer.Option("--data", help="MIDI/ABC file or folder (searched recursively), or a "
                                             ".npz from 'audiogen data melodies'; repeatable.", show_default=False,
                                             metavar="FILE|DIR")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (config.json, metrics.jsonl, checkpoint.pt, "
                                      "model.safetensors, heldout.npz).", show_default=False, callback=writable_dir)],
    config: Annotated[MusicVAEConfigName, typer.Option("--config", help="2bar (flat decoder, latent 256), 16bar "
                                                       "(hierarchical: conductor + bar decoder, latent 512), "
                                                       "16bar-flat, 2bar-paper / 16bar-paper (Magenta's sizes, for a "
                                                       "GPU), tiny (tests).")] = MusicVAEConfigName.two_bar,
    steps: Annotated[int, typer.Option("--steps", min=0, help="Training steps (batches).")] = 20000,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Windows per batch (default: the config's).", show_default=False)] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", min=0.0, help="Adam learning rate (default: the config's).", show_default=False)] = None,
    transpose: Annotated[Optional[str], typer.Option("--transpose", help="Shift each training window by a random "
                                                     "LOW..HIGH semitones, e.g. -5..6, or none (default: the config's).",
                                                     show_default=False)] = None,
    settings: Annotated[Optional[list[str]], typer.Option("--set", help="Change one config field, KEY=VALUE "
                                                          "(e.g. latent=128, decoder_hidden=512, free_bits=48); "
                                                          "repeatable.", show_default=False)] = None,
    track: TrackOpt = None,
    checkpoint_every: CheckpointEveryOpt = 500,
    time_limit: TimeLimitOpt = None,
    resume: ResumeOpt = False,
    init_from: Annotated[Optional[Path], typer.Option("--init-from", help="Fine-tune this MusicVAE model file (its sizes).", show_default=False)] = None,
    warm_start: Annotated[Optional[Path], typer.Option("--warm-start", help="Start the tensors this config shares "
                                                       "(same name and shape) with this MusicVAE model file from it, "
                                                       "e.g. a 16-bar run from the 2-bar model; the rest start fresh.",
                                                       show_default=False)] = None,
    heldout_tunes: Annotated[Optional[Path], typer.Option("--heldout-tunes", help="Hold out exactly the melodies of "
                                                          "this window set (e.g. the warm-start model's heldout.npz) "
                                                          "instead of a random share.", show_default=False,
                                                          metavar="NPZ")] = None,
    rng_seed: Annotated[Optional[int], typer.Option("--rng-seed", help="Seed for the split, the batches and the weights (default 0).", show_default=False)] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first unusable MIDI/ABC file.")] = False,
    *, device, json_out, quiet,
) -> None:
    """Train MusicVAE on melodies: windows of 2 or 16 bars, whole tunes held out, accuracies logged.

    Every meter is used: 3/4 and 6/8 bars are 12 steps + 4 padding. Held-out windows go to heldout.npz for 'eval musicvae'.

    Example: audiogen train musicvae --data tunes/ --config 2bar --out runs/mv2 --time-limit 40

    Example: audiogen train musicvae --data tunes-16bar.npz --config 16bar --warm-start runs/mv2/model.safetensors --heldout-tunes runs/mv2/heldout.npz --out runs/mv16
    """
    from audiogen.musicvae.train import CONFIGS, SHAPE_FIELDS, apply_overrides, train_musicvae

    chosen = CONFIGS[config.value]
    overrides = {k: v for k, v in (("batch_size", batch_size), ("lr", lr), ("seed", rng_seed)) if v is not None}
    if transpose is not None:
        overrides["transpose_low"], overrides["transpose_high"] = parse_transpose(transpose) or (0, 0)
    chosen = apply_overrides(replace(chosen, **overrides), settings or [])
    changed = {**overrides, **{s.partition("=")[0].strip().replace("-", "_"): None for s in settings or []}}
    summary = train_musicvae(data, out, config=chosen, steps=steps, checkpoint_every=checkpoint_every,
                             requested=requested_fields(chosen, ctx, changed, SHAPE_FIELDS),
                             resume=resume, init_from=init_from, warm_start=warm_start, heldout_tunes=heldout_tunes,
                             device=device, track=track, strict=strict,
                             quiet=quiet or json_out, time_limit=None if time_limit is None else time_limit * 60)
    if json_out:
        emit_json({**summary, "config_name": config.value, **provenance("train musicvae", {
            "data": [str(p) for p in data], "out": out, "config": config, "steps": steps, "batch_size": batch_size,
            "lr": lr, "transpose": transpose, "set": settings or [], "track": track,
            "checkpoint_every": checkpoint_every, "time_limit": time_limit, "resume": resume, "init_from": init_from,
            "warm_start": warm_start, "heldout_tunes": heldout_tunes, "rng_seed": rng_seed, "device": summary["device"]})})
        return
    val = summary["validation"]
    early = " (time limit reached; --resume continues)" if summary["stopped_early"] else ""
    scores = ("no held-out melodies" if val is None else
              f"held-out accuracy {val['tf_accuracy']:.3f} teacher-forced, {val['sampled_accuracy']:.3f} sampled, "
              f"KL {val['kl']:.1f} nats")
    result_line(f"step {summary['steps']}/{summary['total_steps']}{early}: {scores}; "
                f"{summary['steps_per_s']} steps/s; model {summary['model']}", json_mode=False)
    bundled_name = {2: "musicvae-2bar.safetensors", 16: "musicvae-16bar.safetensors"}.get(summary.get("bars"))
    if val is not None and bundled_name is not None:
        bundled = (bundled_metadata(bundled_name, "validation") or {}).get("tf_accuracy")
        compare_with_bundled(val["tf_accuracy"], bundled, what="held-out teacher-forced accuracy",
                             higher_is_better=True, margin=0.15, quiet=quiet,
                             hint="train longer (--steps, --time-limit), or check the data")
    if summary["warm_start"] is not None:
        w = summary["warm_start"]
        note(f"warm start from {w['model']}: {w['copied']} tensors ({w['copied_parameters']:,} parameters) copied, "
             f"{w['fresh']} fresh", quiet=quiet)
    note(f"{summary['train_windows']} training windows from {summary['train_melodies']} melodies, "
         f"{summary['val_windows']} held out from {summary['val_melodies']}; {summary['parameters']:,} parameters",
         quiet=quiet)
