"""`audiogen train samplevae`: the spectrogram VAE, with a class head when the data has class subfolders."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import (
    CheckpointEveryOpt,
    ResumeOpt,
    TimeLimitOpt,
    requested_fields,
    shared_options,
    writable_dir,
)
from audiogen.cli.output import emit_json, note, provenance, result_line


class SampleVAEConfigName(str, Enum):
    default = "default"
    tiny = "tiny"


@shared_options("strict", "device", "json_out", "quiet")
def train_samplevae_command(
    ctx: typer.Context,
    data: Annotated[list[Path], typer.Option("--data", help="Folder of one-shot samples (class = subfolder name; a "
                                             "flat folder trains no class head) or an audio file; repeatable.",
                                             show_default=False, metavar="DIR")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (config.json, metrics.jsonl, checkpoint.pt, "
                                      "model.safetensors).", show_default=False, callback=writable_dir)],
    config: Annotated[SampleVAEConfigName, typer.Option("--config", help="default (128 mel x 64 frames, latent 64) "
                                                        "or tiny (tests).")] = SampleVAEConfigName.default,
    val_data: Annotated[Optional[list[Path]], typer.Option("--val-data", help="Held-out folder (same class "
                                                           "subfolders); default: 10% of --data, stratified.",
                                                           show_default=False, metavar="DIR")] = None,
    holdout: Annotated[Optional[float], typer.Option("--holdout", min=0.0, max=0.9, help="Fraction of the files held "
                                                     "out per class when there is no --val-data (0: train on all).",
                                                     show_default="0.1")] = None,
    steps: Annotated[int, typer.Option("--steps", min=0, help="Training steps (batches).")] = 3000,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Samples per batch (default: the config's).", show_default=False)] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", min=0.0, help="Adam learning rate (default: the config's).", show_default=False)] = None,
    latent: Annotated[Optional[int], typer.Option("--latent", min=2, help="Latent size (default: the config's, 64).", show_default=False)] = None,
    checkpoint_every: CheckpointEveryOpt = 500,
    time_limit: TimeLimitOpt = None,
    resume: ResumeOpt = False,
    init_from: Annotated[Optional[Path], typer.Option("--init-from", help="Fine-tune this SampleVAE model file (its sizes and classes).", show_default=False)] = None,
    rng_seed: Annotated[Optional[int], typer.Option("--rng-seed", help="Seed for the split, the batches and the weights (default 0).", show_default=False)] = None,
    *, strict, device, json_out, quiet,
) -> None:
    """Train SampleVAE on one-shot samples: log-mel pictures, class-balanced batches, augmentation.

    Example: audiogen train samplevae --data drums/ --out runs/drums --steps 3000
    """
    from audiogen.samplevae.train import CONFIGS, SHAPE_FIELDS, train_samplevae

    overrides = {k: v for k, v in (("batch_size", batch_size), ("lr", lr), ("seed", rng_seed), ("latent", latent),
                                                     ("val_fraction", holdout)) if v is not None}
    chosen = replace(CONFIGS[config.value], **overrides)
    summary = train_samplevae(data, out, config=chosen, steps=steps, checkpoint_every=checkpoint_every,
                              resume=resume, init_from=init_from, device=device, val_data=val_data, strict=strict,
                              requested=requested_fields(chosen, ctx, overrides, SHAPE_FIELDS),
                              quiet=quiet or json_out, time_limit=None if time_limit is None else time_limit * 60)
    if json_out:
        emit_json({**summary, "config_name": config.value, **provenance("train samplevae", {
            "data": [str(p) for p in data], "val_data": [str(p) for p in val_data or []], "out": out,
            "config": config, "holdout": holdout, "steps": steps, "batch_size": batch_size, "lr": lr, "latent": latent,
            "checkpoint_every": checkpoint_every, "time_limit": time_limit, "resume": resume,
            "init_from": init_from, "rng_seed": rng_seed, "device": summary["device"]})})
        return
    val = summary["validation"]
    early = " (time limit reached; --resume continues)" if summary["stopped_early"] else ""
    if val is None:
        scores = "nothing held out"
    else:
        scores = f"held-out recon {val['recon']:.1f}, KL {val['kl']:.1f} nats"
        if val.get("accuracy") is not None:
            scores += f", class accuracy {val['accuracy']:.3f} ({val['scored']} samples)"
    result_line(f"step {summary['steps']}/{summary['total_steps']}{early}: {scores}; "
                f"{summary['steps_per_s']} steps/s; model {summary['model']}", json_mode=False)
    classes = ", ".join(f"{k} {v}" for k, v in summary["train_class_counts"].items()) or "none (no class head)"
    note(f"{summary['train_samples']} training samples, {summary['val_samples']} held out; classes: {classes}; "
         f"{summary['parameters']:,} parameters; {len(summary['skipped']['files'])} files skipped", quiet=quiet)
