"""`audiogen train translate`: pix2pix on `data pairs` folders, or CycleGAN on two unrelated folders."""

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


class TranslateConfigName(str, Enum):
    cpu = "cpu"
    gpu = "gpu"
    tiny = "tiny"


@shared_options("strict", "device", "json_out", "quiet")
def train_translate_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (config.json, metrics.jsonl, checkpoint.pt, "
                                      "model.safetensors, snapshots/).", show_default=False, callback=writable_dir)],
    data: Annotated[Optional[list[Path]], typer.Option("--data", help="A `data pairs` folder (a/ -> b/); "
                                                       "repeatable.", show_default=False, metavar="PAIRS_DIR")] = None,
    unpaired: Annotated[bool, typer.Option("--unpaired", help="CycleGAN on two folders of unrelated recordings "
                                           "(--a and --b) instead of pairs.")] = False,
    side_a: Annotated[Optional[list[Path]], typer.Option("--a", help="With --unpaired: recordings of the source "
                                                         "instrument (folder or file, repeatable).",
                                                         show_default=False, metavar="DIR")] = None,
    side_b: Annotated[Optional[list[Path]], typer.Option("--b", help="With --unpaired: recordings of the target "
                                                         "instrument.", show_default=False, metavar="DIR")] = None,
    config: Annotated[TranslateConfigName, typer.Option("--config", help="cpu (U-Net 16-256 channels, batch 4 of "
                                                        "2 s: the bundled model), gpu (32-512, batch 16 of 4 s) or "
                                                        "tiny (tests).")] = TranslateConfigName.cpu,
    steps: Annotated[int, typer.Option("--steps", min=0, help="Training steps (batches).")] = 20000,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Crops per batch (default: the config's).", show_default=False)] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", min=0.0, help="Adam learning rate (default 2e-4).", show_default=False)] = None,
    checkpoint_every: CheckpointEveryOpt = 500,
    time_limit: TimeLimitOpt = None,
    resume: ResumeOpt = False,
    init_from: Annotated[Optional[Path], typer.Option("--init-from", help="Fine-tune this translate model file (its sizes; same mode).", show_default=False)] = None,
    rng_seed: Annotated[Optional[int], typer.Option("--rng-seed", help="Seed for the split, the crops and the weights (default 0).", show_default=False)] = None,
    *, strict, device, json_out, quiet,
) -> None:
    """Train a timbre translator over (log-magnitude, IF) spectrograms.

    Paired (pix2pix: U-Net + PatchGAN, L1 + adversarial) on folders from `audiogen data pairs`;
    unpaired (CycleGAN: two U-Nets, two PatchGANs, cycle + identity losses) with --unpaired --a --b.
    Snapshots (input / output / target spectrograms) go to OUT/snapshots/.

    Example: audiogen train translate --data pairs/ --out runs/piano-violin --time-limit 60
    """
    from audiogen.errors import AudiogenError
    from audiogen.translate.train import CONFIGS, SHAPE_FIELDS, train_translate

    if unpaired:
        if data:
            raise AudiogenError("--unpaired trains on --a and --b folders; drop --data (pairs train without --unpaired)")
        if not side_a or not side_b:
            raise AudiogenError("--unpaired needs both --a DIR (source instrument) and --b DIR (target instrument)")
    elif not data:
        raise AudiogenError("give --data PAIRS_DIR (from `audiogen data pairs`), or --unpaired --a DIR --b DIR")
    elif side_a or side_b:
        raise AudiogenError("--a and --b are for --unpaired training; paired training reads --data")
    overrides = {k: v for k, v in (("batch_size", batch_size), ("lr", lr), ("seed", rng_seed)) if v is not None}
    chosen = replace(CONFIGS[config.value], **overrides)
    summary = train_translate(out, config=chosen, steps=steps, pairs=data or (), side_a=side_a or (),
                              side_b=side_b or (), checkpoint_every=checkpoint_every, resume=resume,
                              init_from=init_from, device=device, strict=strict,
                              requested=requested_fields(chosen, ctx, overrides, SHAPE_FIELDS),
                              quiet=quiet or json_out, time_limit=None if time_limit is None else time_limit * 60)
    if json_out:
        emit_json({**summary, "config_name": config.value, **provenance("train translate", {
            "data": [str(p) for p in data or []], "unpaired": unpaired, "a": [str(p) for p in side_a or []],
            "b": [str(p) for p in side_b or []], "out": out, "config": config, "steps": steps,
            "batch_size": batch_size, "lr": lr, "checkpoint_every": checkpoint_every, "time_limit": time_limit,
            "resume": resume, "init_from": init_from, "rng_seed": rng_seed, "device": summary["device"]})})
        return
    val = summary["validation"]
    early = " (time limit reached; --resume continues)" if summary["stopped_early"] else ""
    if val is None:
        scores = "nothing held out"
    elif "cycle_a" in val:
        scores = f"held-out cycle error {val.get('cycle', val['cycle_a']):.4f}"
    else:
        scores = f"held-out L1 {val['l1']:.4f} (input's own {val['identity_l1']:.4f})"
    result_line(f"step {summary['steps']}/{summary['total_steps']}{early}: {scores}; "
                f"{summary['steps_per_s']} steps/s; model {summary['model']}", json_mode=False)
    note(f"{summary['mode']}: {' + '.join(map(str, summary['train_clips']))} training clips, "
         f"{' + '.join(map(str, summary['val_clips']))} held out; {summary['parameters']:,} generator parameters; "
         f"{summary['skipped']['count']} files skipped", quiet=quiet)
