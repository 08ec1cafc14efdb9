"""`audiogen train pitch-classifier`: the classifier `eval gansynth` judges notes with."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import (
    CheckpointEveryOpt,
    NSynthCacheDirOpt,
    NSynthFilterOpt,
    ResumeOpt,
    TimeLimitOpt,
    given_on_command_line,
    requested_fields,
    shared_options,
    writable_dir,
)
from audiogen.cli.output import emit_json, provenance, result_line


@shared_options("strict", "device", "json_out", "quiet")
def train_pitch_classifier_command(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", help="NSynth folder of real notes.", show_default=False, metavar="DIR")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (model.safetensors at the end).", show_default=False, callback=writable_dir)],
    val_data: Annotated[Optional[Path], typer.Option("--val-data", help="Held-out NSynth folder (default: 10% of "
                                                     "--data).", show_default=False, metavar="DIR")] = None,
    filters: NSynthFilterOpt = None,
    steps: Annotated[int, typer.Option("--steps", min=0, help="Training steps.")] = 1500,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Notes per step.")] = 64,
    channels: Annotated[Optional[str], typer.Option("--channels", help="Convolution widths, e.g. 48,96,96 (default "
                                                    "32,64,64: the bundled classifier's).", show_default=False)] = None,
    rng_seed: Annotated[int, typer.Option("--rng-seed", help="Seed for the weights and batches.")] = 0,
    lr: Annotated[Optional[float], typer.Option("--lr", min=0.0, help="Adam learning rate "
                                                "(default 1e-3).", show_default=False)] = None,
    checkpoint_every: CheckpointEveryOpt = 500,
    time_limit: TimeLimitOpt = None,
    resume: ResumeOpt = False,
    init_from: Annotated[Optional[Path], typer.Option("--init-from", help="Fine-tune this pitch-classifier model "
                                                      "file (its widths).", show_default=False)] = None,
    cache_dir: NSynthCacheDirOpt = None,
    *, strict, device, json_out, quiet,
) -> None:
    """Train the pitch classifier that `eval gansynth` judges notes with (a 1-D CNN over a
    log-frequency spectrum, 128 MIDI pitches; its 128-d features give the Fréchet distance).

    Example: audiogen train pitch-classifier --data nsynth-train/ --val-data nsynth-valid/ --out runs/pitch
    """
    from dataclasses import replace

    from audiogen.gansynth.classifier_train import PitchClassifierTrainConfig, train_pitch_classifier

    widths = PitchClassifierTrainConfig().channels
    if channels is not None:
        from audiogen.errors import AudiogenError

        parts = [p.strip() for p in channels.split(",")]
        if not parts or not all(p.isdigit() and 1 <= int(p) <= 4096 for p in parts):
            raise AudiogenError(f"--channels {channels!r}: expected comma-separated widths of 1-4096, e.g. 48,96,96")
        widths = tuple(int(p) for p in parts)
    config = replace(PitchClassifierTrainConfig(), batch_size=batch_size, channels=widths, seed=rng_seed,
                     filters=tuple(filters) if filters else ("gansynth",), **({"lr": lr} if lr is not None else {}))
    summary = train_pitch_classifier(data, out, config=config, steps=steps, val_data=val_data, cache_root=cache_dir,
                                     checkpoint_every=checkpoint_every, resume=resume, device=device, strict=strict,
                                     quiet=quiet or json_out, init_from=init_from,
                                     requested=requested_fields(config, ctx, [
                                         field for option, field in (("batch_size", "batch_size"),
                                                                     ("channels", "channels"), ("lr", "lr"),
                                                                     ("rng_seed", "seed"), ("filters", "filters"))
                                         if given_on_command_line(ctx, option)], ()),
                                     time_limit=None if time_limit is None else time_limit * 60)
    if json_out:
        emit_json({**summary, **provenance("train pitch-classifier", {
            "data": data, "val_data": val_data, "out": out, "filter": list(config.filters), "steps": steps,
            "batch_size": batch_size, "channels": list(widths), "resume": resume, "device": summary["device"]},
            rng_seed=rng_seed)})
        return
    result_line(f"step {summary['steps']}/{summary['total_steps']}: held-out pitch accuracy "
                f"{summary['val_accuracy']:.3f} ({summary['val_notes']} notes), training {summary['train_accuracy']:.3f}; "
                f"model {summary['model']}", json_mode=False)
