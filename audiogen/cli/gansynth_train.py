"""`audiogen train gansynth`: the progressive pitch-conditioned GAN on an NSynth folder (also under torchrun)."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from audiogen.cli.options import (
    CheckpointEveryOpt,
    NSynthCacheDirOpt,
    NSynthFilterOpt,
    ResumeOpt,
    TimeLimitOpt,
    requested_fields,
    shared_options,
    writable_dir,
)
from audiogen.cli.output import emit_json, note, provenance, result_line


class GANSynthConfigName(str, Enum):
    full = "full"
    small = "small"
    cpu = "cpu"


class Conditioning(str, Enum):
    acgan = "acgan"
    projection = "projection"


class Precision(str, Enum):
    auto = "auto"
    bf16 = "bf16"
    fp32 = "fp32"


@shared_options("strict", "device", "json_out", "quiet")
def train_gansynth_command(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option("--data", help="NSynth folder (examples.json + audio/).", show_default=False,
                                       metavar="DIR")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (config.json, metrics.jsonl, checkpoint.pt, "
                                      "model.safetensors, snapshots/).", show_default=False, callback=writable_dir)],
    config: Annotated[GANSynthConfigName, typer.Option("--config", help="full (the paper's 128x1024 IF-Mel, AC-GAN, 800k "
                                                       "images a stage), small (narrow, 128x512, AC-GAN, 20k a stage) "
                                                       "or cpu (64x256 IF-Mel, BigGAN-style conditioning with a harmonic "
                                                       "pitch map, stages weighted toward the upper levels).")
                      ] = GANSynthConfigName.full,
    conditioning: Annotated[Optional[Conditioning], typer.Option("--conditioning", help="Pitch conditioning "
                                                                 "(default: the config's): acgan (the paper: one-hot "
                                                                 "at G's input, a pitch head on D) or projection "
                                                                 "(BigGAN: pitch + latent in every G block, a "
                                                                 "projection term in D).", show_default=False)] = None,
    harmonic_map: Annotated[Optional[bool], typer.Option("--harmonic-map/--no-harmonic-map", help="Feed each pitch's "
                                                         "harmonic positions to every G block and to D (default: "
                                                         "the config's; on for cpu).", show_default=False)] = None,
    pitch_judge: Annotated[Optional[Path], typer.Option("--pitch-judge", help="A frozen pitch-classifier model "
                                                        "file whose reading of G's notes G is trained to match the "
                                                        "asked pitch (with --judge-weight).", show_default=False)] = None,
    check_melodies: Annotated[Optional[list[Path]], typer.Option(
        "--check-melodies", help="Held-out MIDI melodies (files or folders; repeatable) the pitch check also "
        "plays at every snapshot, with two of the grid's timbres: pYIN over each note's first 0.4 s and the "
        "note-level spread go into metrics.jsonl.", show_default=False, metavar="DIR|FILE")] = None,
    judge_weight: Annotated[Optional[float], typer.Option("--judge-weight", min=0.0, max=1000.0, help="Weight of the "
                                                          "pitch judge's cross-entropy in G's loss (default: the "
                                                          "config's; 1 when --pitch-judge is given to a config without "
                                                          "one; above 1000 the judge drowns the adversarial loss).",
                                                          show_default=False)] = None,
    filters: NSynthFilterOpt = None,
    batch_size: Annotated[Optional[int], typer.Option("--batch-size", min=1, help="Notes per step over all processes "
                                                      "(default: the config's: 8, cpu 16).", show_default=False)] = None,
    images_per_stage: Annotated[Optional[int], typer.Option("--images-per-stage", min=1, help="Images in every stage "
                                                            "(default: the config's; replaces cpu's per-stage lengths).",
                                                            show_default=False)] = None,
    steps: Annotated[Optional[int], typer.Option("--steps", min=0, help="Stop after this many steps (default: the whole "
                                                 "schedule).", show_default=False)] = None,
    lr: Annotated[Optional[float], typer.Option("--lr", min=0.0, help="Adam learning rate (default 8e-4).",
                                                show_default=False)] = None,
    checkpoint_every: CheckpointEveryOpt = 1000,
    snapshot_every: Annotated[Optional[int], typer.Option("--snapshot-every", min=0, help="Steps between snapshot "
                                                          "grids and WAVs in OUT/snapshots (0: none).",
                                                          show_default=False)] = None,
    precision: Annotated[Precision, typer.Option("--precision", help="auto: bf16 autocast on GPUs that have it, "
                                                 "else fp32.")] = Precision.auto,
    compile_: Annotated[bool, typer.Option("--compile", help="torch.compile the generator (the discriminator's "
                                           "gradient penalty stays eager).")] = False,
    cache_dir: NSynthCacheDirOpt = None,
    time_limit: TimeLimitOpt = None,
    resume: ResumeOpt = False,
    rng_seed: Annotated[Optional[int], typer.Option("--rng-seed", help="Seed for the weights, batches and noise "
                                                    "(default 0).", show_default=False)] = None,
    *, strict, device, json_out, quiet,
) -> None:
    """Train GANSynth (IF-Mel, progressive growing, WGAN-GP, pitch-conditioned) on NSynth notes.

    The default filter keeps acoustic notes of MIDI pitch 24-84, as the paper. Data-parallel on
    N GPUs: torchrun --nproc_per_node=N -m audiogen train gansynth ... (--batch-size is the total).

    Example: audiogen train gansynth --data nsynth-gm/ --out runs/gansynth --config cpu --time-limit 60
    """
    from audiogen.cli.data_nsynth import report_cache
    from audiogen.data.nsynth import NSynthFilter
    from audiogen.gansynth.train import CONFIGS, SHAPE_FIELDS, default_steps, train_gansynth
    from audiogen.runtime.distributed import shutdown, world_from_env

    words = tuple(filters) if filters else ("gansynth",)
    filt = NSynthFilter.parse(list(words))
    overrides = {k: v for k, v in (("batch_size", batch_size), ("images_per_stage", images_per_stage), ("lr", lr),
                                   ("snapshot_every", snapshot_every), ("seed", rng_seed),
                                   ("conditioning", conditioning.value if conditioning else None),
                                   ("harmonic_map", harmonic_map), ("judge_weight", judge_weight)) if v is not None}
    if images_per_stage is not None:
        overrides["stage_images"] = ()  # one length for every stage replaces a per-stage schedule
    chosen = replace(CONFIGS[config.value], filters=words, **overrides)
    if pitch_judge is not None and judge_weight is None and chosen.judge_weight == 0:
        chosen = replace(chosen, judge_weight=1.0)
    changed = set(overrides) | ({"filters"} if filters else set())
    if (filt.pitch_min, filt.pitch_max) != (0, 127):
        chosen = replace(chosen, pitch_min=filt.pitch_min, pitch_max=filt.pitch_max)
        changed |= {"pitch_min", "pitch_max"} if filters else set()
    main = world_from_env().is_main
    quiet = quiet or json_out or not main
    try:
        summary = train_gansynth(data, out, config=chosen, steps=steps, checkpoint_every=checkpoint_every,
                                 resume=resume, device=device, precision=precision.value, compile=compile_,
                                 cache_root=cache_dir, strict=strict, quiet=quiet,
                                 time_limit=None if time_limit is None else time_limit * 60,
                                 on_cache=lambda s: report_cache(s, quiet=quiet), pitch_judge=pitch_judge,
                                 check_melodies=check_melodies,
                                 requested=requested_fields(chosen, ctx, changed, SHAPE_FIELDS))
    except BaseException:
        shutdown()
        raise
    shutdown(together=True)
    if not main:
        return
    if json_out:
        emit_json({**summary, "config_name": config.value, "schedule_steps": default_steps(chosen),
                   **provenance("train gansynth", {
                       "data": data, "out": out, "config": config, "filter": list(words), "batch_size": batch_size,
                       "conditioning": chosen.conditioning, "harmonic_map": chosen.harmonic_map,
                       "pitch_judge": pitch_judge, "judge_weight": chosen.judge_weight,
                       "check_melodies": check_melodies,
                       "images_per_stage": images_per_stage, "steps": steps, "lr": lr,
                       "checkpoint_every": checkpoint_every, "snapshot_every": snapshot_every,
                       "precision": summary["precision"], "compile": compile_, "time_limit": time_limit,
                       "resume": resume, "rng_seed": rng_seed, "device": summary["device"],
                       "world_size": summary["world_size"]})})
        return
    early = " (stopped early; --resume continues)" if summary["stopped_early"] else ""
    losses = summary["losses"]
    scores = (f"D {losses['d_loss']:.3f}, G {losses['g_loss']:.3f}, W-distance {losses['wdist']:.3f}"
              + (f", real pitch acc {losses['real_pitch_acc']:.2f}" if "real_pitch_acc" in losses else "")
              if losses else "no losses logged")
    if summary.get("pitch_check"):
        scores += f"; {summary['pitch_check']}"
    result_line(f"step {summary['steps']}/{summary['total_steps']}{early}: {summary['images']:,} images, "
                f"stage {summary['stage'] + 1} level {summary['level']} alpha {summary['alpha']:.2f}; {scores}; "
                f"{summary['img_per_s']} img/s; model {summary['model']}", json_mode=False)
    note(f"{summary['notes']} notes, pitches {summary['pitch_range'][0]}-{summary['pitch_range'][1]}; "
         f"{summary['world_size']} process(es) on {summary['device']}, {summary['precision']}; "
         f"G {summary['generator_parameters']:,} / D {summary['discriminator_parameters']:,} parameters; "
         f"{summary['skipped']['count']} files skipped", quiet=quiet)
