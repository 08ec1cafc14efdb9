"""`audiogen train abc`: the char-LSTM over ABC tunes."""

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
from audiogen.cli.output import compare_with_bundled, emit_json, note, provenance, result_line
from audiogen.runtime.assets import bundled_metadata


class AbcConfigName(str, Enum):
    default = "default"
    small = "small"
    mit = "mit"
    folk_rnn = "folk-rnn"


@shared_options("device", "json_out", "quiet")
def train_abc_command(
    ctx: typer.Context,
    data: Annotated[list[Path], typer.Option("--data", help="ABC file or folder of .abc files; repeatable.",
                                             show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (config.json, metrics.jsonl, "
                                      "checkpoint.pt, model.safetensors).", show_default=False, callback=writable_dir)],
    config: Annotated[AbcConfigName, typer.Option("--config", help="Sizes: default (2x384 LSTM, 2.0M params), "
                                                  "small, mit (MIT 6.S191 lab), folk-rnn (3x512).")] = AbcConfigName.default,
    steps: Annotated[int, typer.Option("--steps", min=0, help="Training steps (batches).")] = 3000,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Rows per batch (default: the config's).", show_default=False)] = None,
    seq_len: Annotated[Optional[int], typer.Option("--seq-len", min=2, help="Characters per BPTT window (default: the config's).", show_default=False)] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", min=0.0, help="Adam learning rate (default: the config's).", show_default=False)] = None,
    checkpoint_every: CheckpointEveryOpt = 500,
    time_limit: TimeLimitOpt = None,
    resume: ResumeOpt = False,
    init_from: Annotated[Optional[Path], typer.Option("--init-from", help="Fine-tune this ABC model file (its sizes and vocabulary).", show_default=False)] = None,
    rng_seed: Annotated[Optional[int], typer.Option("--rng-seed", help="Seed for the split, the order and the weights (default 0).", show_default=False)] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Stop at the first unreadable ABC file.")] = False,
    *, device, json_out, quiet,
) -> None:
    """Train the ABC char-LSTM: tunes in, bits per character logged, a model file out.

    Validation tunes are held out by tune; bits per character go to metrics.jsonl.

    Example: audiogen train abc --data irish.abc --out runs/abc --steps 6000 --time-limit 40
    """
    from audiogen.abc.train import CONFIGS, SHAPE_FIELDS, train_abc

    chosen = CONFIGS[config.value]
    overrides = {k: v for k, v in (("batch_size", batch_size), ("seq_len", seq_len), ("lr", lr),
                                   ("seed", rng_seed)) if v is not None}
    if lr is not None and "lr_final" not in overrides:
        overrides["lr_final"] = lr * chosen.lr_final / chosen.lr
    chosen = replace(chosen, **overrides)
    summary = train_abc(data, out, config=chosen, steps=steps, checkpoint_every=checkpoint_every, resume=resume,
                        init_from=init_from, device=device, strict=strict, quiet=quiet or json_out,
                        requested=requested_fields(chosen, ctx, overrides, SHAPE_FIELDS),
                        time_limit=None if time_limit is None else time_limit * 60)
    if json_out:
        emit_json({**summary, "config_name": config.value, **provenance("train abc", {
            "data": [str(p) for p in data], "out": out, "config": config, "steps": steps, "batch_size": batch_size,
            "seq_len": seq_len, "lr": lr, "checkpoint_every": checkpoint_every, "time_limit": time_limit,
            "resume": resume, "init_from": init_from, "rng_seed": rng_seed, "device": summary["device"]})})
        return
    bpc = "n/a" if summary["val_bpc"] is None else f"{summary['val_bpc']:.3f}"
    early = " (time limit reached; --resume continues)" if summary["stopped_early"] else ""
    result_line(f"step {summary['steps']}/{summary['total_steps']}{early}: validation {bpc} bits/char on "
                f"{summary['val_tunes']} held-out tunes; {summary['chars_per_s']} chars/s; "
                f"model {summary['model']}", json_mode=False)
    compare_with_bundled(summary["val_bpc"], bundled_metadata("abc.safetensors", "val_bpc"),
                         what="held-out bits/char", higher_is_better=False, margin=0.5, quiet=quiet,
                         hint="its tunes will rarely play; train longer (--steps, --time-limit) or use a larger "
                              "--config")
    note(f"{summary['train_tunes']} training tunes, vocabulary {summary['vocab_size']} characters, "
         f"{summary['parameters']:,} parameters, {summary['epochs']} epochs", quiet=quiet)
