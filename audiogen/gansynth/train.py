"""Training GANSynth: progressive growing with WGAN-GP, drift and pitch conditioning (the paper's
AC-GAN loss, or BigGAN-style conditional normalisation with a projection discriminator).

One step = one discriminator update then one generator update on the same real batch, then the
EMA generator follows. Every random draw of a step (latents, fake pitches, the penalty's mixing
weights) comes from a generator seeded by (seed, step) over the whole global batch, and every
real batch from `data.batch_rows`: a resumed run repeats an uninterrupted one exactly, and a
data-parallel run (each rank its slice of the global batch, gradients averaged) makes the same
update as one process on the combined batch.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from audiogen.errors import AudiogenError
from audiogen.gansynth.model import Discriminator, Generator
from audiogen.gansynth.schedule import Phase, describe, describe_short, phase_at, total_images

from audiogen.gansynth.config import (  # noqa: F401  (the config lives in config.py; re-exported here)
    KIND, GANSynthTrainConfig, CONFIGS, config_from_dict, spectral_config, normalizer, SHAPE_FIELDS,
    model_config)


def stage_plan(config: GANSynthTrainConfig) -> int | tuple[int, ...]:
    """Images per stage: the per-stage lengths when given, else one length for all."""
    return tuple(config.stage_images) or config.images_per_stage


def schedule_images(config: GANSynthTrainConfig) -> int:
    return total_images(len(config.channels), stage_plan(config))


def default_steps(config: GANSynthTrainConfig) -> int:
    """Steps covering the whole schedule."""
    return math.ceil(schedule_images(config) / config.batch_size)


def ema_decay(config: GANSynthTrainConfig, stage: int | None = None) -> float:
    """The EMA generator's decay per step: `config.ema` (the paper's 0.999), or faster where that
    would average over more than a quarter of the stage (short stages: the EMA would otherwise still
    hold the untrained initial weights of the newest level when the stage ends). `stage` picks the
    stage's length in a per-stage schedule (default: `images_per_stage`)."""
    from audiogen.gansynth.schedule import stage_lengths

    length = config.images_per_stage
    if stage is not None and config.stage_images:
        length = stage_lengths(len(config.channels), stage_plan(config))[stage]
    quarter_stage = max(length / 4, config.batch_size)
    return min(config.ema, 0.5 ** (config.batch_size / quarter_stage))


def phase_of_step(step: int, config: GANSynthTrainConfig) -> Phase:
    return phase_at(step * config.batch_size, levels=len(config.channels), images_per_stage=stage_plan(config))


def sees_pitch(config: GANSynthTrainConfig) -> bool:
    """Whether D takes the pitch label (projection term or harmonic map), not only the paper's image."""
    return config.conditioning != "acgan" or config.harmonic_map


@dataclass
class Nets:
    generator: Generator
    discriminator: Discriminator
    generator_ema: Generator
    g_forward: Callable  # the generator, or its torch.compile'd version
    judge: torch.nn.Module | None = None  # a frozen pitch classifier G's notes are read by (judge_weight)


@dataclass
class StepNoise:
    """One step's random draws for this rank's slice of the global batch."""

    z_d: torch.Tensor        # (b, latent) latents for the discriminator update
    pitch_d: torch.Tensor    # (b,) fake pitch indices
    mix: torch.Tensor        # (b, 1, 1, 1) gradient-penalty mixing weights in [0, 1)
    z_g: torch.Tensor        # (b, latent) latents for the generator update
    pitch_g: torch.Tensor    # (b,)


def step_noise(step: int, config: GANSynthTrainConfig, histogram: torch.Tensor, rank_slice: slice,
               device: torch.device) -> StepNoise:
    """Draw the whole global batch's noise from (seed, step), keep this rank's rows.

    Fake pitches follow the training set's pitch `histogram` (pitch classes, counts).
    """
    g = torch.Generator().manual_seed(int(np.random.SeedSequence([config.seed, step, 1]).generate_state(1)[0]))
    batch = config.batch_size
    z_d = torch.randn(batch, config.latent, generator=g)
    pitch_d = torch.multinomial(histogram, batch, replacement=True, generator=g)
    mix = torch.rand(batch, 1, 1, 1, generator=g)
    z_g = torch.randn(batch, config.latent, generator=g)
    pitch_g = torch.multinomial(histogram, batch, replacement=True, generator=g)
    return StepNoise(*(t[rank_slice].to(device, non_blocking=True) for t in (z_d, pitch_d, mix, z_g, pitch_g)))


def gan_step(nets: Nets, g_opt: torch.optim.Optimizer, d_opt: torch.optim.Optimizer, reals: torch.Tensor,
             real_pitch: torch.Tensor, noise: StepNoise, phase: Phase, config: GANSynthTrainConfig, *,
             amp_dtype: torch.dtype | None = None, world=None) -> dict[str, torch.Tensor]:
    """One discriminator then one generator update; returns detached per-rank loss terms.

    reals: (b, 2, frames, bins) at `phase.level`, already faded; real_pitch: (b,) pitch indices.
    """
    from audiogen.runtime.distributed import SINGLE, average_gradients
    from audiogen.runtime.precision import autocast

    world = world or SINGLE
    G, D = nets.generator, nets.discriminator
    device = reals.device
    level = phase.level
    alpha = phase.alpha if nets.g_forward is G else torch.tensor(phase.alpha, device=device)
    onehot = lambda p: F.one_hot(p, config.pitches).float()  # noqa: E731
    b = reals.shape[0]
    acgan, labelled = config.conditioning == "acgan", sees_pitch(config)
    # A D that judges notes against their pitch sees fakes made at the real batch's pitches, so the
    # gradient penalty's real/fake mixtures each have one label; the paper's D draws them apart.
    pitch_d = real_pitch if labelled else noise.pitch_d
    label = (lambda p: onehot(p)) if labelled else (lambda p: None)  # noqa: E731

    # Discriminator: WGAN-GP + drift (+ pitch classification of the real notes for AC-GAN).
    with torch.no_grad(), autocast(device, amp_dtype):
        fakes = nets.g_forward(noise.z_d, onehot(pitch_d), level, alpha).float()
    with autocast(device, amp_dtype):
        logits, classes = D(torch.cat([reals, fakes]).contiguous(memory_format=torch.channels_last), level, phase.alpha,
                            pitch=label(torch.cat([real_pitch, pitch_d])))
    logits = logits.float()
    d_real, d_fake = logits[:b], logits[b:]
    mixed = torch.lerp(fakes, reals, noise.mix).requires_grad_(True)
    with autocast(device, amp_dtype):
        mixed_logits, _ = D(mixed.contiguous(memory_format=torch.channels_last), level, phase.alpha,
                            pitch=label(real_pitch))
    (grad,) = torch.autograd.grad(mixed_logits.float().sum(), mixed, create_graph=True)
    gp = (grad.flatten(1).norm(dim=1) - 1.0).square().mean()
    drift = d_real.square().mean()
    wdist = d_real.mean() - d_fake.mean()
    d_loss = -wdist + config.gp_weight * gp + config.drift_weight * drift
    terms: dict[str, torch.Tensor] = {}
    if acgan:
        d_aux = F.cross_entropy(classes[:b].float(), real_pitch)
        d_loss = d_loss + config.aux_weight * d_aux
        terms["d_aux"] = d_aux.detach()
        terms["real_pitch_acc"] = (classes[:b].detach().argmax(dim=1) == real_pitch).float().mean()
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    average_gradients(D.parameters(), world)
    d_opt.step()

    # Generator: fool D (and, for AC-GAN, make D's head hear the sampled pitch). D gets no gradient.
    D.requires_grad_(False)
    try:
        with autocast(device, amp_dtype):
            fakes = nets.g_forward(noise.z_g, onehot(noise.pitch_g), level, alpha)
            logits, classes = D(fakes.contiguous(memory_format=torch.channels_last), level, phase.alpha,
                                pitch=label(noise.pitch_g))
        g_loss = -logits.float().mean()
        if nets.judge is not None and config.judge_weight > 0:
            j_loss = judge_loss(nets.judge, fakes, noise.pitch_g, level, config)
            g_loss = g_loss + config.judge_weight * j_loss
            terms["judge_loss"] = j_loss.detach()
        if acgan:
            g_aux = F.cross_entropy(classes.float(), noise.pitch_g)
            g_loss = g_loss + config.aux_weight * g_aux
            terms["g_aux"] = g_aux.detach()
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
    finally:
        D.requires_grad_(True)
    average_gradients(G.parameters(), world)
    g_opt.step()
    with torch.no_grad():
        ema_params = list(nets.generator_ema.parameters())
        torch._foreach_lerp_(ema_params, [p.detach() for p in G.parameters()], 1.0 - ema_decay(config, phase.stage))
    return {"d_loss": d_loss.detach(), "g_loss": g_loss.detach(), "wdist": wdist.detach(), "gp": gp.detach(),
            "drift": drift.detach(), **terms}


def judge_loss(judge: torch.nn.Module, fakes: torch.Tensor, pitch: torch.Tensor, level: int,
               config: GANSynthTrainConfig) -> torch.Tensor:
    """Cross-entropy of a frozen pitch classifier on G's notes (images at `level` -> full
    resolution -> waves through the differentiable inverse) against the asked pitch classes.
    The classifier reads a log-frequency spectrum, so lowering this loss means putting energy at
    the asked pitch's partials; a judge other than the one `eval gansynth` scores with (and pYIN)
    keeps the evaluation independent."""
    from audiogen.gansynth.data import images_to_waves, upsample_to_full
    from audiogen.gansynth.classifier_input import pitch_input

    full = upsample_to_full(fakes.float(), level, len(config.channels))
    waves = images_to_waves(full, spectral_config(config), mel=config.mel, norm=normalizer(config))
    logits, _ = judge(pitch_input(waves))
    return F.cross_entropy(logits.float(), pitch + config.pitch_min)


def build_nets(config: GANSynthTrainConfig, device: torch.device, *, compile: bool = False) -> Nets:
    """G, D and the EMA copy of G (channels_last on `device`), from the current torch seed."""
    mc = model_config(config)
    G = Generator(mc).to(device, memory_format=torch.channels_last)
    D = Discriminator(mc).to(device, memory_format=torch.channels_last)
    G_ema = copy.deepcopy(G).requires_grad_(False)
    g_forward = torch.compile(G, dynamic=False) if compile else G
    return Nets(G, D, G_ema, g_forward)


def make_optimizers(nets: Nets, config: GANSynthTrainConfig) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    betas = (config.beta1, config.beta2)
    return (torch.optim.Adam(nets.generator.parameters(), lr=config.lr, betas=betas, eps=1e-8),
            torch.optim.Adam(nets.discriminator.parameters(), lr=config.lr, betas=betas, eps=1e-8))


def _check_batch(config: GANSynthTrainConfig, world_size: int) -> int:
    """The per-rank batch; AudiogenError when the global batch does not split evenly."""
    if config.batch_size % world_size:
        raise AudiogenError(f"--batch-size {config.batch_size} does not split over {world_size} processes")
    per_rank = config.batch_size // world_size
    group = min(config.mbstd_group, per_rank)
    if per_rank % group:
        raise AudiogenError(f"--batch-size {config.batch_size}: each process's {per_rank} notes must be a multiple "
                            f"of the minibatch-stddev group {config.mbstd_group}")
    return per_rank


def train_gansynth(data: str | os.PathLike, out: str | os.PathLike, *, config: GANSynthTrainConfig,
                   steps: int | None = None, checkpoint_every: int = 1000, resume: bool = False,
                   device: str = "auto", precision: str = "auto", compile: bool = False,
                   cache_root: str | os.PathLike | None = None, time_limit: float | None = None,
                   stop: Callable[[int], bool] | None = None, strict: bool = False, quiet: bool = False,
                   on_cache: Callable[[dict], None] | None = None,
                   pitch_judge: str | os.PathLike | None = None, requested: dict | None = None,
                   check_melodies: list[str | os.PathLike] | None = None) -> dict:
    """Train (or resume) GANSynth on an NSynth folder; returns a summary dict (rank 0's).

    Started by torchrun (WORLD_SIZE > 1) it trains data-parallel: each rank reads its slice of
    every global batch, gradients are averaged, only rank 0 writes. `on_cache(summary)` is called
    once the note cache is ready (to report filter removals and resampled notes). With
    `config.judge_weight` > 0, `pitch_judge` names the frozen pitch-classifier file G is judged by.
    `check_melodies` (MIDI files or folders) are played at every snapshot by the pitch check.
    """
    from audiogen.data.nsynth import NSynthFilter
    from audiogen.data.nsynth_cache import build_cache
    from audiogen.data.skips import SkipLog
    from audiogen.gansynth.data import (batch_rows, downsample_to_level, fade_reals, fit_magnitude_normalizer,
                                        waves_to_images)
    from audiogen.gansynth.monitor import CHECK_FIGURES, check_and_snapshot, load_check_classifier
    from audiogen.gansynth.pitch_check import summary_line
    from audiogen.runtime import distributed as dist
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.modelfile import file_sha256
    from audiogen.runtime.precision import autocast_dtype
    from audiogen.runtime.progress import make_progress
    from audiogen.runtime.seeding import seed_everything
    from audiogen.runtime.training import LossWindow, TrainingRun, starting_config

    from audiogen.gansynth.melody_check import read_melodies

    melodies = read_melodies(list(check_melodies)) if check_melodies else None  # bad paths fail before any work
    world = dist.init_world(device)
    torch_device = resolve_device(device)
    amp_dtype = autocast_dtype(torch_device, precision)
    config = starting_config(config, out, kind=KIND, resume=resume, init_from=None, from_dict=config_from_dict,
                             model_fields=(), requested=requested)
    per_rank = _check_batch(config, world.size)
    pitch_judge_net = None
    if config.judge_weight > 0:
        from audiogen.gansynth.classifier_train import BUNDLED_NAME, load_pitch_classifier
        from audiogen.runtime.assets import bundled_model_path

        if pitch_judge is None:
            raise AudiogenError(f"judge weight {config.judge_weight}: name the frozen pitch classifier with "
                                "--pitch-judge (train one with `audiogen train pitch-classifier`; use another than "
                                "the one `eval gansynth` scores with)")
        pitch_judge_net, judge_file = load_pitch_classifier(pitch_judge, torch_device)
        if resume and config.judge_sha256 and config.judge_sha256 != judge_file.sha256:
            raise AudiogenError(f"--pitch-judge {pitch_judge}: not the classifier this run was trained with (sha256 "
                                f"{judge_file.sha256[:12]}, the run's {config.judge_sha256[:12]}); --resume needs the same one")
        if not resume:
            config = replace(config, judge_sha256=judge_file.sha256)
        bundled = bundled_model_path(BUNDLED_NAME)
        if world.is_main and bundled.is_file() and file_sha256(bundled) == judge_file.sha256:
            from audiogen.data.skips import warn

            warn("the pitch judge is the bundled classifier: its own pitch figures (training checks, eval gansynth) "
                 "are then not independent of training; pYIN still is")
    elif pitch_judge is not None and world.is_main:
        from audiogen.data.skips import warn

        warn(f"--pitch-judge {pitch_judge} is not used: the judge weight is 0 (give --judge-weight)")
    rank_slice = slice(world.rank * per_rank, (world.rank + 1) * per_rank)
    model_config(config)  # refuses a layout the levels cannot halve, before any data work
    filt = NSynthFilter.parse(list(config.filters))
    if (filt.pitch_min, filt.pitch_max) != (config.pitch_min, config.pitch_max):
        filt = replace(filt, pitch_min=max(filt.pitch_min, config.pitch_min), pitch_max=min(filt.pitch_max, config.pitch_max))

    skips = SkipLog(strict=strict, warn=world.is_main)
    if world.is_main:
        with make_progress(quiet=quiet, unit="notes") as progress:
            tasks: list = []
            cache, cache_summary = build_cache(data, filt, cache_root=cache_root, skips=skips,
                                               on_start=lambda n: tasks.append(progress.add_task("decoding notes", total=n)),
                                               on_note=lambda: progress.advance(tasks[0]))
    if world.distributed:
        torch.distributed.barrier()
    if not world.is_main:
        cache, cache_summary = build_cache(data, filt, cache_root=cache_root, skips=skips)
    if on_cache is not None and world.is_main:
        on_cache(cache_summary)
    count = len(cache)
    if count < config.batch_size:
        raise AudiogenError(f"{data}: {count} notes after filtering ({filt.describe()}), fewer than one batch "
                            f"of {config.batch_size}")
    pitch_labels = cache.labels["pitch"].astype(np.int64)
    histogram = cache.pitch_histogram()[config.pitch_min:config.pitch_max + 1]  # counts per pitch class
    pitch_index = torch.from_numpy(pitch_labels - config.pitch_min)

    if config.fit_normalizer and not resume:  # every rank reads the same notes: the same constants
        config = replace(config, **fit_magnitude_normalizer(cache, spectral_config(config), mel=config.mel))
    seed_everything(config.seed)
    nets = build_nets(config, torch_device, compile=compile)
    if pitch_judge_net is not None:
        nets.judge = pitch_judge_net.eval().requires_grad_(False)
    for module in (nets.generator, nets.discriminator, nets.generator_ema):
        dist.broadcast_module(module, world)
    g_opt, d_opt = make_optimizers(nets, config)
    total_steps = default_steps(config) if steps is None else int(steps)
    spec, norm, levels = spectral_config(config), normalizer(config), len(config.channels)
    run = TrainingRun(out, kind=KIND, config=asdict(config),
                      modules={"generator": nets.generator, "discriminator": nets.discriminator,
                               "generator_ema": nets.generator_ema},
                      optimizers={"g": g_opt, "d": d_opt}, total_steps=total_steps,
                      checkpoint_every=checkpoint_every, resume=resume, quiet=quiet, write=world.is_main)
    run.use_data(data)
    hist_t = torch.from_numpy(histogram).double()

    began = time.perf_counter()
    # The running sums between metrics lines live in the checkpoint, so a run resumed mid-window
    # (after a SIGKILL, say) logs the same means as one that never stopped.
    window = LossWindow(run)
    window_images, window_start, images_per_s = 0, time.perf_counter(), 0.0
    last: dict[str, float] = {}

    def should_stop(step: int) -> bool:
        local = (stop is not None and stop(step)) or (
            time_limit is not None and time.perf_counter() - began >= time_limit)
        return dist.rank0_decides(local, world, torch_device)

    snapshots = world.is_main and config.snapshot_every > 0
    check_classifier = load_check_classifier() if snapshots else None
    last_check, warned_snapshot = "", False
    loop_time_limit = None if world.distributed else time_limit
    loop_stop = should_stop if world.distributed else stop
    def export_model() -> Path:
        reached = phase_of_step(max(run.step - 1, 0), config)
        return run.export(dtype=torch.float16,
                          tensors={f"model.{k}": v for k, v in nets.generator_ema.state_dict().items()},
                          extra={"pitch_histogram": histogram.tolist(), "level": reached.level,
                                 "alpha": reached.alpha, "trained_images": run.step * config.batch_size,
                                 "training_seconds": round(run.elapsed, 1), "notes": count})

    for step in run.steps(time_limit=loop_time_limit, stop=loop_stop, export=export_model):
        phase = phase_of_step(step, config)
        rows = batch_rows(step, config.batch_size, count, config.seed)[rank_slice]
        waves = torch.from_numpy(cache.waves(rows)).to(torch_device, non_blocking=True)
        with torch.no_grad():
            reals = fade_reals(downsample_to_level(waves_to_images(waves, spec, mel=config.mel, norm=norm),
                                                   phase.level, levels), phase.alpha)
        noise = step_noise(step, config, hist_t, rank_slice, torch_device)
        losses = gan_step(nets, g_opt, d_opt, reals, pitch_index[rows].to(torch_device), noise, phase, config,
                          amp_dtype=amp_dtype, world=world)
        window.add(**losses)
        window_images += config.batch_size
        done = step + 1
        if done % config.log_every == 0 or done == total_steps:
            now = time.perf_counter()
            images_per_s = window_images / max(now - window_start, 1e-9)
            window_images, window_start = 0, now
            taken = window.take()
            names = sorted(taken)
            means = torch.stack([torch.as_tensor(taken[k], device=torch_device) for k in names])
            if world.distributed:
                torch.distributed.all_reduce(means)
                means /= world.size
            last = {k: round(float(v), 5) for k, v in zip(names, means.tolist())}
            run.log(done, **last, stage=phase.stage, level=phase.level, alpha=round(phase.alpha, 4),
                    images=done * config.batch_size, img_per_s=round(images_per_s, 1))
        run.status = f"{images_per_s:.0f} img/s {describe_short(phase)}" + (f"; {last_check}" if last_check else "")
        if snapshots and done % config.snapshot_every == 0:
            try:
                report = check_and_snapshot(nets.generator_ema, config, phase, Path(out) / "snapshots", done,
                                            check_classifier, melodies=melodies)
                run.log(done, **{f"check_{k}": report.get(k) for k in CHECK_FIGURES}, images=done * config.batch_size)
                last_check = summary_line(report)
                if "snapshot_error" in report and not warned_snapshot:
                    from audiogen.data.skips import warn

                    warn(f"snapshot pictures and WAVs turned off ({report['snapshot_error']}); pitch checks go on")
                    warned_snapshot = True
            except ImportError as e:  # no librosa nor classifier: a lean GPU machine trains on
                from audiogen.data.skips import warn

                warn(f"snapshots and pitch checks turned off: {e}")
                snapshots = False

    in_sync = dist.ranks_agree(nets.generator, world, torch_device) and dist.ranks_agree(
        nets.discriminator, world, torch_device)
    if not in_sync:
        raise AudiogenError("data-parallel ranks hold different weights after training; the run is not trustworthy")
    seconds = time.perf_counter() - began
    phase = phase_of_step(run.step, config)
    end_phase = phase_of_step(max(run.step - 1, 0), config)
    summary = {
        "out": str(out), "steps": run.step, "total_steps": total_steps, "stopped_early": run.stopped_early,
        "images": run.step * config.batch_size, "schedule_images": schedule_images(config),
        "stage": end_phase.stage, "level": end_phase.level, "alpha": round(end_phase.alpha, 4),
        "next_phase": describe(phase, levels), "notes": count, "pitch_range": [config.pitch_min, config.pitch_max],
        "cache": cache_summary, "skipped": skips.to_dict(), "losses": last, "pitch_check": last_check,
        "img_per_s": round(images_per_s, 1), "seconds": round(seconds, 1),
        "training_seconds_total": round(run.elapsed, 1), "device": str(torch_device),
        "precision": "bf16" if amp_dtype == torch.bfloat16 else "fp32", "compiled": compile,
        "world_size": world.size, "ranks_in_sync": in_sync,
        "generator_parameters": sum(p.numel() for p in nets.generator.parameters()),
        "discriminator_parameters": sum(p.numel() for p in nets.discriminator.parameters()),
    }
    export_model()
    summary["model"] = str(Path(out) / "model.safetensors")
    run.close()
    return summary
