"""Training loop of MusicVAE: ELBO with beta annealing and free bits, scheduled sampling, held-out tunes."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from audiogen.data.melody import FIRST_NOTE_ON, HIGHEST_PITCH, PAD, note_on
from audiogen.data.skips import SkipLog
from audiogen.errors import AudiogenError, BadInputError
from audiogen.musicvae.evaluate import kl_cost, kl_divergence, reconstruction_metrics
from audiogen.musicvae.model import MusicVAE, MusicVAEModelConfig

from audiogen.musicvae.config import (  # noqa: F401  (the config lives in config.py; re-exported here)
    KIND, HELDOUT_NAME, MusicVAETrainConfig, _16BAR, _16BAR_PER_BAR, CONFIGS, SHAPE_FIELDS,
    model_config, config_from_dict)


def _bounds():
    from audiogen.runtime.configs import Bounds

    positive = Bounds(low=1)
    sizes = ("bars", "latent", "embed", "encoder_hidden", "encoder_layers", "decoder_hidden", "decoder_layers",
             "conductor_hidden", "conductor_layers", "conductor_out", "bar_encoder_hidden", "batch_size", "hop_bars", "val_every",
             "val_windows", "log_every")
    unit = Bounds(low=0, high=1)
    return {**{k: positive for k in sizes}, "dropout": Bounds(low=0, high=1, high_open=True),
            "lr": Bounds(low=0, low_open=True, high=1), "lr_decay": Bounds(low=0, low_open=True, high=1),
            "lr_min": Bounds(low=0), "grad_clip": Bounds(low=0, low_open=True), "beta_max": Bounds(low=0),
            "beta_rate": unit, "free_bits": Bounds(low=0), "sampling_rate": Bounds(low=0), "sampling_max": unit,
            "transpose_low": Bounds(low=-24, high=24), "transpose_high": Bounds(low=-24, high=24),
            "val_fraction": Bounds(low=0, high=1, high_open=True), "distill_weight": Bounds(low=0),
            "distill_min_sigma": Bounds(low=0, low_open=True)}


def check_config(config: MusicVAETrainConfig) -> MusicVAETrainConfig:
    """`config` when every value means something (sizes >= 1, 0 <= dropout < 1, a finite lr > 0, ...);
    else AudiogenError naming the --set key."""
    from audiogen.runtime.configs import check_bounds

    check_bounds(config, _bounds())
    if config.transpose_low > config.transpose_high:
        raise AudiogenError(f"--set transpose_low={config.transpose_low}: must not exceed transpose_high "
                            f"({config.transpose_high})")
    return config


def apply_overrides(config: MusicVAETrainConfig, settings: Sequence[str]) -> MusicVAETrainConfig:
    """`KEY=VALUE` strings (e.g. "latent=128") applied to a config, typed like the field; AudiogenError if bad."""
    types = {f.name: type(getattr(config, f.name)) for f in fields(MusicVAETrainConfig)}
    changes: dict[str, object] = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in types:
            raise AudiogenError(f"--set {setting!r}: expected KEY=VALUE with KEY one of {', '.join(types)}")
        kind = types[key]
        try:
            if kind is bool:
                if value.strip().lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                changes[key] = value.strip().lower() in ("true", "1", "yes")
            else:
                changes[key] = kind(value)
        except ValueError:
            raise AudiogenError(f"--set {setting!r}: {value!r} is not a {kind.__name__}") from None
    return check_config(replace(config, **changes))


def beta_at(config: MusicVAETrainConfig, step: int) -> float:
    return config.beta_max * (1.0 - config.beta_rate ** step)


def sampling_probability(config: MusicVAETrainConfig, step: int) -> float:
    """Inverse-sigmoid schedule: the chance of reading the model's own previous event instead of the truth."""
    k = config.sampling_rate
    if k <= 0:
        return 0.0
    return min(1.0 - k / (k + math.exp(min(step / k, 700.0))), config.sampling_max)


def _lr_factor(config: MusicVAETrainConfig):
    floor = config.lr_min / config.lr
    return lambda step: max(config.lr_decay ** step, floor)


def shift_bounds(events: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, T) events -> the lowest and highest transposition (semitones) keeping each window in MIDI 21..108."""
    on = (events >= FIRST_NOTE_ON) & (events < PAD)
    low = torch.where(on, events, PAD).amin(dim=1)
    high = torch.where(on, events, -1).amax(dim=1)
    down = torch.where(high < 0, torch.zeros_like(low), FIRST_NOTE_ON - low)
    up = torch.where(high < 0, torch.zeros_like(high), note_on(HIGHEST_PITCH) - high)
    return down, up


def transpose_batch(events: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """events (B, T), shift (B,) semitones (already legal) -> note-ons moved, other classes kept."""
    on = (events >= FIRST_NOTE_ON) & (events < PAD)
    return torch.where(on, events + shift[:, None], events)


def vae_losses(model: MusicVAE, x: torch.Tensor, *, beta: float, free_bits: float,
               sample_probability: float = 0.0, teacher: MusicVAE | None = None, distill_weight: float = 0.0,
               distill_min_sigma: float = 0.1) -> dict[str, torch.Tensor]:
    """One batch x (B, T) int64 -> {"loss", "recon", "kl", "kl_cost", "accuracy"} (means over the batch),
    and "distill" when a 2-bar `teacher` is given (`audiogen.musicvae.distill`, weighted by `distill_weight`).

    Scheduled sampling is done in parallel: a first teacher-forced pass (no gradient) draws an
    event at every step; each step then reads that drawn event instead of the true previous one
    with probability `sample_probability`, and the second pass is trained.
    """
    mu, sigma = model.encode(x)
    z = mu + sigma * torch.randn_like(sigma)
    conditions = model.conditions(z)
    distill = None
    if teacher is not None:
        from audiogen.musicvae.distill import distill_loss, teacher_codes

        distill = distill_loss(conditions, *teacher_codes(teacher, x), min_sigma=distill_min_sigma).mean()
    kl = kl_divergence(mu, sigma)
    cost = kl_cost(kl, free_bits).mean()
    read = x
    if sample_probability > 0:
        with torch.no_grad():
            logits = model.decode_conditions(conditions, x)
            drawn = torch.distributions.Categorical(logits=logits.float()).sample()
            use = torch.rand(x.shape, device=x.device) < sample_probability
            read = torch.where(use, drawn, x)
    logits = model.decode_conditions(conditions, read)
    recon = F.cross_entropy(logits.transpose(1, 2), x, reduction="none").sum(dim=1).mean()
    real = x != PAD
    accuracy = ((logits.argmax(dim=-1) == x) & real).sum() / real.sum().clamp(min=1)
    losses = {"loss": recon + beta * cost, "recon": recon, "kl": kl.mean(), "kl_cost": cost, "accuracy": accuracy}
    if distill is not None:
        losses["loss"] = losses["loss"] + distill_weight * distill
        losses["distill"] = distill
    return losses


def train_musicvae(data: Sequence[str | os.PathLike], out: str | os.PathLike, *, config: MusicVAETrainConfig,
                   steps: int, checkpoint_every: int = 500, resume: bool = False,
                   init_from: str | os.PathLike | None = None, warm_start: str | os.PathLike | None = None,
                   heldout_tunes: str | os.PathLike | None = None, device: str = "auto", track: int | None = None,
                   time_limit: float | None = None, stop: Callable[[int], bool] | None = None,
                   strict: bool = False, quiet: bool = False, requested: dict | None = None) -> dict:
    """Train (or resume, or fine-tune) a MusicVAE on melodies; returns a summary dict.
    `requested`: config fields the command line asked for (a resume that differs is refused).

    `data`: MIDI/ABC files or folders and/or .npz window sets. Whole melodies are held out for
    validation (written to heldout.npz in the run for `eval musicvae`): a seeded share of them, or
    exactly the melodies of the window set `heldout_tunes` (e.g. the heldout.npz of the model a
    `warm_start` comes from, so that no held-out tune was seen by either). `warm_start`: a MusicVAE
    model file whose tensors of the same name and shape a new run starts from
    (`audiogen.musicvae.warm_start`). `time_limit` (seconds in this session) or `stop(step)` stops
    early with a checkpoint and an exported model.
    """
    from audiogen.data.melody import save_windows
    from audiogen.musicvae.attributes import attribute_vectors, measure
    from audiogen.musicvae.data import read_window_sets, split_by_names, split_by_source, subset
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.runtime.seeding import seed_everything
    from audiogen.runtime.training import LossWindow, TrainingRun, starting_config

    if warm_start is not None and init_from is not None:
        raise AudiogenError("--warm-start and --init-from both say where the weights start: give one")
    torch_device = resolve_device(device)
    config = starting_config(config, out, kind=KIND, resume=resume, init_from=init_from, from_dict=config_from_dict,
                             requested=requested,
                             model_fields=[f.name for f in fields(MusicVAEModelConfig)])

    source_model = None  # the --warm-start model, read once (and checked) before the data
    if warm_start is not None:
        from audiogen.musicvae.load import load_musicvae_model

        source_model = load_musicvae_model(warm_start, device=torch_device)
    teacher = None
    if config.distill_weight > 0:
        if not config.hierarchical:
            raise AudiogenError("distill_weight > 0 teaches a hierarchical model's conductor: this config is flat "
                                "(--set distill_weight=0)")
        if warm_start is None:
            raise AudiogenError("distill_weight > 0 learns from the --warm-start 2-bar model: give --warm-start "
                                "(also with --resume), or --set distill_weight=0")
        teacher = source_model.model.requires_grad_(False)
        if teacher.config.bars != 2 or teacher.config.latent != config.conductor_out:
            raise BadInputError(warm_start, f"distillation needs a 2-bar teacher whose latent is the conductor_out "
                                            f"({config.conductor_out}); this is {teacher.config.bars} bars, latent "
                                            f"{teacher.config.latent}")
    held_before = Path(out) / HELDOUT_NAME
    if resume and heldout_tunes is None and held_before.is_file():
        heldout_tunes = held_before  # a resumed run holds out exactly the melodies it held out before

    skips = SkipLog(strict=strict)
    with make_progress(quiet=quiet, unit="file") as progress:
        tasks: list = []
        arrays = read_window_sets(
            data, config.bars, config.hop_bars, skips=skips, track=track,
            on_start=lambda total: tasks.append(progress.add_task("melodies", total=total)),
            on_item=lambda: progress.advance(tasks[0]))
    if heldout_tunes is not None:
        train_rows, val_rows = split_by_names(arrays, heldout_tunes)
    else:
        train_rows, val_rows = split_by_source(arrays["source"], config.val_fraction, config.seed)
    train_set, val_set = subset(arrays, train_rows), subset(arrays, val_rows)
    if not len(train_rows):
        raise AudiogenError("no training windows left after holding out validation melodies")

    seed_everything(config.seed)
    windows = torch.as_tensor(train_set["events"].astype(np.int64), device=torch_device)
    down, up = shift_bounds(windows)
    low = torch.clamp(down, min=config.transpose_low)
    high = torch.clamp(up, max=config.transpose_high)
    high = torch.maximum(high, low)
    val_pick = np.random.default_rng(config.seed).permutation(len(val_rows))[:config.val_windows]
    val_events = val_set["events"][np.sort(val_pick)]

    model = MusicVAE(model_config(config)).to(torch_device)
    started: dict = {}  # the --init-from model a fine-tune starts from
    if init_from is not None:
        from audiogen.runtime.modelfile import load_model

        source = load_model(init_from, kind=KIND)
        started = {"init_from": {"model": str(init_from), "sha256": source.sha256,
                                 "trained_steps": source.extra.get("trained_steps"),
                                 "training_seconds": source.extra.get("training_seconds")}}
    started_from = None
    if source_model is not None and not resume:
        from audiogen.musicvae.warm_start import warm_start as start_from

        started_from = start_from(model, source_model)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_factor(config))
    run = TrainingRun(out, kind=KIND, config=asdict(config), modules={"model": model},
                      optimizers={"opt": optimizer}, schedulers={"lr": scheduler}, total_steps=steps,
                      checkpoint_every=checkpoint_every, resume=resume, init_from=init_from, quiet=quiet)
    run.use_data(data)
    if len(val_rows):
        save_windows(Path(out) / HELDOUT_NAME, val_set)

    val: dict | None = None

    def validate(step: int) -> None:
        nonlocal val
        val = reconstruction_metrics(model, val_events, device=torch_device)
        run.log(step, val_tf_accuracy=val["tf_accuracy"], val_sampled_accuracy=val["sampled_accuracy"],
                val_kl=val["kl"], val_recon=val["recon_loss"])

    began, seen, batches = time.perf_counter(), 0, 0
    window = LossWindow(run)
    meters: dict[str, int] = {}
    for meter in train_set["meter"].tolist():
        meters[meter] = meters.get(meter, 0) + 1
    meters = dict(sorted(meters.items(), key=lambda kv: -kv[1]))

    warm = {} if started_from is None else {"warm_start": {k: started_from[k] for k in (
        "model", "sha256", "copied", "copied_parameters")}}
    if started_from is not None:
        run.log(0, warm_start_copied=len(started_from["copied"]), warm_start_fresh=len(started_from["fresh"]))

    def export_model(**more) -> Path:
        from audiogen.musicvae.sampling_fit import fit_sampling
        from audiogen.runtime.training import TrainingDiverged

        try:  # one pass over the training codes serves the prior and the attribute vectors
            fitted = fit_sampling(model, train_set["events"], train_set["meter"], seed=config.seed)
        except AudiogenError as e:
            raise TrainingDiverged(run.step, str(e), run.last_checkpoint, run.checkpoint_path) from None
        return run.export(dtype=torch.float16, tensors={**run.named_tensors(), **fitted.tensors}, extra={
            "sampling": fitted.meta, **started,
            "attributes": attribute_vectors(fitted.mu, measure(train_set["events"][fitted.rows])),
            "train_windows": int(len(train_rows)), "train_melodies": int(len(np.unique(train_set["source"]))),
            "val_melodies": int(len(np.unique(val_set["source"]))), "meters": meters,
            "training_seconds": round(run.elapsed, 1), **warm, **more})

    model.train()
    for step in run.steps(time_limit=time_limit, stop=stop, export=export_model):
        rows = torch.randint(len(windows), (config.batch_size,), device=torch_device)
        x = windows[rows]
        if config.transpose_low or config.transpose_high:
            span = (high[rows] - low[rows] + 1).float()
            shift = low[rows] + (torch.rand(len(rows), device=torch_device) * span).long()
            x = transpose_batch(x, shift)
        beta = beta_at(config, step)
        probability = sampling_probability(config, step)
        losses = vae_losses(model, x, beta=beta, free_bits=config.free_bits, sample_probability=probability,
                            teacher=teacher, distill_weight=config.distill_weight,
                            distill_min_sigma=config.distill_min_sigma)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        seen += len(x)
        batches += 1
        window.add(**{key: value.item() for key, value in losses.items()})
        done = step + 1
        if done % config.log_every == 0 or done == steps:
            seconds = time.perf_counter() - began
            run.log(done, **window.take(), beta=beta, sampling=probability,
                    lr=scheduler.get_last_lr()[0], windows_per_s=round(seen / max(seconds, 1e-9), 1))
        if len(val_events) and (done % config.val_every == 0 or done == steps):
            validate(done)
    stopped_early = run.stopped_early
    if (stopped_early or val is None) and len(val_events):
        validate(run.step)  # the exported model carries its held-out figures
    seconds = time.perf_counter() - began

    summary = {
        "out": str(out), "steps": run.step, "total_steps": steps, "stopped_early": stopped_early, "bars": config.bars,
        "train_windows": int(len(train_rows)), "val_windows": int(len(val_rows)),
        "train_melodies": int(len(np.unique(train_set["source"]))),
        "val_melodies": int(len(np.unique(val_set["source"]))),
        "parameters": sum(p.numel() for p in model.parameters()), "validation": val,
        "seconds": round(seconds, 1), "steps_per_s": round(batches / max(seconds, 1e-9), 2),
        "training_seconds_total": round(run.elapsed, 1), "device": str(torch_device), "skipped": skips.to_dict(),
        "meters": meters, "warm_start": None if started_from is None else {
            "model": started_from["model"], "copied": len(started_from["copied"]),
            "fresh": len(started_from["fresh"]), "copied_parameters": started_from["copied_parameters"]},
    }
    export_model(validation=val)
    summary["model"] = str(Path(out) / "model.safetensors")
    summary["heldout"] = str(Path(out) / HELDOUT_NAME) if len(val_rows) else None
    run.close()
    return summary
