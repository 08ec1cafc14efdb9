"""Training SampleVAE: ELBO on log-mel pictures plus a class loss on the latent mean, with
class- (and kit-) balanced batches and augmentation of the pictures (pitch / length stretch,
delay, noise floor, spectral tilt)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from audiogen.errors import AudiogenError
from audiogen.samplevae.model import SampleVAE

from audiogen.samplevae.config import (  # noqa: F401  (the config lives in config.py; re-exported here)
    KIND, SampleVAETrainConfig, CONFIGS, SHAPE_FIELDS, feature_config, model_config, config_from_dict)


def augment(x: torch.Tensor, config: SampleVAETrainConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random stretch of the mel axis (pitch) and time axis (decay), and a small delay:
    (B, 1, n_mels, frames) -> same shape; uncovered pixels become 0 (the floor)."""
    b = x.shape[0]
    r = torch.rand(b, 3, generator=generator, device=x.device)
    sy = 1.0 + config.stretch * (2 * r[:, 0] - 1)   # >1 zooms out: content moves down in pitch
    sx = 1.0 + config.stretch * (2 * r[:, 1] - 1)
    delay = torch.floor(r[:, 2] * (config.shift_frames + 1)) * 2.0 / x.shape[-1]
    theta = torch.zeros(b, 2, 3, device=x.device, dtype=x.dtype)
    # grid coords in [-1, 1]; anchor both stretches at the picture's low/left edge (-1).
    theta[:, 0, 0] = sx
    theta[:, 0, 2] = sx - 1.0 - delay * sx
    theta[:, 1, 1] = sy
    theta[:, 1, 2] = sy - 1.0
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    # A noisier recording (less dynamic range) and a brighter or duller one.
    r = torch.rand(b, 2, generator=generator, device=x.device)
    floor = (config.floor_raise * r[:, 0]).view(b, 1, 1, 1)
    ramp = torch.linspace(-0.5, 0.5, x.shape[2], device=x.device, dtype=x.dtype).view(1, 1, -1, 1)
    tilt = (config.tilt * (2 * r[:, 1] - 1)).view(b, 1, 1, 1) * ramp
    x = torch.where(x > 0, x + tilt, x)
    x = ((x - floor) / (1 - floor)).clamp(0.0, 1.0)
    return x / x.amax(dim=(2, 3), keepdim=True).clamp_min(1e-6)  # peak back at 1


def balanced_weights(labels: torch.Tensor, groups: Sequence[str] | None = None) -> torch.Tensor:
    """Sampling weight per item so every class (and the unlabelled, -1) is drawn equally often,
    and within a class every group (e.g. drum kit) equally often when `groups` are given."""
    weights = torch.ones(len(labels))
    group_ids = None
    if groups is not None:
        names = {g: i for i, g in enumerate(sorted(set(groups)))}
        group_ids = torch.tensor([names[g] for g in groups])
    for value in labels.unique():
        picked = labels == value
        if group_ids is None:
            weights[picked] = 1.0 / picked.sum()
            continue
        kits = group_ids[picked].unique()
        for kit in kits:
            both = picked & (group_ids == kit)
            weights[both] = 1.0 / (both.sum() * len(kits))
    return weights


def vae_losses(model: SampleVAE, x: torch.Tensor, labels: torch.Tensor | None, *, beta: float,
               class_weight: float) -> dict[str, torch.Tensor]:
    """Per-picture sums: recon (binary cross-entropy against the [0, 1] picture), KL (nats),
    class cross-entropy (mean over labelled items; 0 without labels or a head)."""
    logits, mu, logvar, class_logits = model(x)
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()
    kl = (0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)).sum(1).mean()
    ce = x.new_zeros(())
    accuracy = x.new_zeros(())
    if class_logits is not None and labels is not None and (labels >= 0).any():
        known = labels >= 0
        ce = F.cross_entropy(class_logits[known], labels[known])
        accuracy = (class_logits[known].argmax(1) == labels[known]).float().mean()
    loss = recon + beta * kl + class_weight * ce
    return {"loss": loss, "recon": recon, "kl": kl, "class_loss": ce, "class_accuracy": accuracy}


@torch.no_grad()
def validation_metrics(model: SampleVAE, x: torch.Tensor, labels: torch.Tensor, classes: Sequence[str],
                       batch_size: int = 256) -> dict:
    """Held-out recon (per picture), KL, and class accuracy overall and per class."""
    from audiogen.samplevae.evaluate import accuracy_report

    was_training = model.training
    model.eval()
    recon = kl = 0.0
    predictions = []
    for start in range(0, len(x), batch_size):
        xb = x[start:start + batch_size]
        mu, logvar = model.encode(xb)
        logits = model.decode_logits(mu)
        recon += float(F.binary_cross_entropy_with_logits(logits, xb, reduction="none").flatten(1).sum(1).sum())
        kl += float((0.5 * (mu.square() + logvar.exp() - 1.0 - logvar)).sum())
        if model.classifier is not None:
            predictions.append(model.classify(mu).argmax(1).cpu())
    model.train(was_training)
    result = {"recon": recon / max(len(x), 1), "kl": kl / max(len(x), 1)}
    if predictions:
        result.update(accuracy_report(torch.cat(predictions).numpy(), labels.cpu().numpy(), classes))
    return result


def split_files(labels: list[int], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Stratified split of item indices: (train, held out); each class keeps at least one training item."""
    rng = np.random.default_rng(seed)
    train, held = [], []
    for value in sorted(set(labels)):
        rows = [i for i, v in enumerate(labels) if v == value]
        rng.shuffle(rows)
        n = int(round(len(rows) * fraction)) if len(rows) > 1 else 0
        n = min(n, len(rows) - 1)
        held += rows[:n]
        train += rows[n:]
    return sorted(train), sorted(held)


def read_labelled(data: Sequence[str | os.PathLike]) -> tuple[list[Path], list[str | None]]:
    """Audio files under each folder (or given files) with their class (immediate subfolder, else None)."""
    from audiogen.data.audio_folders import is_audio_file, labelled_audio_files
    from audiogen.errors import BadInputError

    files, names = [], []
    for root in data:
        root = Path(root)
        if not root.exists():
            raise BadInputError(root, "no such file or folder")
        if root.is_file():
            if not is_audio_file(root):
                raise BadInputError(root, "not an audio file (expected .wav, .flac, .ogg, .mp3, .aiff)")
            files.append(root)
            names.append(None)
            continue
        found = labelled_audio_files(root)
        if not found:
            raise BadInputError(root, "holds no audio files")
        for path, label in found:
            files.append(path)
            names.append(label)
    return files, names


def train_samplevae(data: Sequence[str | os.PathLike], out: str | os.PathLike, *, config: SampleVAETrainConfig,
                    steps: int, checkpoint_every: int = 500, resume: bool = False,
                    init_from: str | os.PathLike | None = None, device: str = "auto",
                    val_data: Sequence[str | os.PathLike] | None = None, time_limit: float | None = None,
                    stop: Callable[[int], bool] | None = None, strict: bool = False, quiet: bool = False,
                    files: tuple[list[Path], list[str | None]] | None = None,
                    val_files: tuple[list[Path], list[str | None]] | None = None,
                    groups: list[str] | None = None, requested: dict | None = None) -> dict:
    """Train (or resume, or fine-tune) SampleVAE on one-shot audio; returns a summary dict.

    Classes are the subfolder names under each `data` folder; with none, the model has no class
    head. Held out: `val_data` when given, else `val_fraction` of the files (stratified).
    `files` / `val_files` ((paths, class names)) replace `data` / `val_data` for callers that
    pick files themselves (the leave-one-kit-out evaluation); `groups` (one per file, e.g. the kit)
    balance the batches within each class.
    """
    from audiogen.data.skips import SkipLog
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.modelfile import load_model
    from audiogen.runtime.progress import make_progress
    from audiogen.runtime.seeding import seed_everything
    from audiogen.runtime.training import LossWindow, TrainingRun, read_run_config, starting_config
    from audiogen.samplevae.data import features, load_feature_set

    torch_device = resolve_device(device)
    config = starting_config(config, out, kind=KIND, resume=resume, init_from=init_from, from_dict=config_from_dict,
                             model_fields=SHAPE_FIELDS, requested=requested)
    feats = feature_config(config)

    paths, names = files if files is not None else read_labelled(data)
    if groups is None and files is None:
        from audiogen.samplevae.data import library_groups

        found = library_groups(data)
        if found and all(str(Path(p).resolve()) in found for p in paths):
            groups = [found[str(Path(p).resolve())][0] for p in paths]
    if val_files is None and val_data:
        val_files = read_labelled(val_data)
    val_paths, val_names = val_files if val_files is not None else ([], [])
    labelled = sorted({n for n in list(names) + list(val_names) if n is not None})
    if resume or init_from is not None:
        saved_classes = (read_run_config(out) or {}).get("classes") if resume else load_model(init_from, kind=KIND).config.get("classes")
        if saved_classes is not None and set(labelled) - set(saved_classes):
            raise AudiogenError(f"classes {sorted(set(labelled) - set(saved_classes))} are not in the "
                                f"{'run' if resume else 'model'} being continued ({', '.join(saved_classes)})")
        labelled = list(saved_classes or labelled)
    index = {name: i for i, name in enumerate(labelled)}

    skips = SkipLog(strict=strict)
    with make_progress(quiet=quiet, unit="file") as progress:
        task = progress.add_task("read samples", total=len(paths) + len(val_paths))
        clips, kept = load_feature_set(paths, feats, skips=skips, on_item=lambda: progress.advance(task))
        val_clips, val_kept = load_feature_set(val_paths, feats, skips=skips, on_item=lambda: progress.advance(task))
    labels = torch.tensor([index[names[i]] if names[i] is not None else -1 for i in kept], dtype=torch.long)
    val_labels = torch.tensor([index[val_names[i]] if val_names[i] is not None else -1 for i in val_kept],
                              dtype=torch.long)
    if val_files is None:
        train_rows, val_rows = split_files(labels.tolist(), config.val_fraction, config.seed)
        val_clips, val_labels = clips[val_rows], labels[val_rows]
        clips, labels = clips[train_rows], labels[train_rows]
    if len(clips) == 0:
        raise AudiogenError("no usable training samples" + (f" ({len(skips)} files skipped)" if len(skips) else ""))

    seed_everything(config.seed)
    x_all = features(clips, feats).to(torch_device)
    x_val = features(val_clips, feats).to(torch_device) if len(val_clips) else None
    labels = labels.to(torch_device)
    kept_groups = [groups[i] for i in kept] if groups is not None and config.balance_groups else None
    if kept_groups is not None and val_files is None:
        kept_groups = [kept_groups[i] for i in train_rows]
    weights = balanced_weights(labels.cpu(), kept_groups).to(torch_device)

    # channels_last: mkldnn's convolutions run ~1.6x faster on CPU this way.
    model = SampleVAE(model_config(config, len(labelled))).to(torch_device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    floor = config.lr_min / config.lr
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(s / max(steps, 1), 1.0))))
    run_config = {**asdict(config), "classes": labelled}
    run = TrainingRun(out, kind=KIND, config=run_config, modules={"model": model},
                      optimizers={"opt": optimizer}, schedulers={"lr": scheduler}, total_steps=steps,
                      checkpoint_every=checkpoint_every, resume=resume, init_from=init_from, quiet=quiet)
    run.use_data(data)

    val: dict | None = None

    def validate(step: int) -> None:
        nonlocal val
        if x_val is None:
            return
        val = validation_metrics(model, x_val, val_labels, labelled)
        run.log(step, **{f"val_{k}": v for k, v in val.items() if not isinstance(v, (dict, list))})

    began, seen, batches = time.perf_counter(), 0, 0
    window = LossWindow(run)
    counts = {name: int((labels == i).sum()) for i, name in enumerate(labelled)}

    def export_model(**more) -> Path:
        return run.export(dtype=torch.float16, extra={
            "classes": labelled, "train_samples": int(len(x_all)), "train_class_counts": counts,
            "training_seconds": round(run.elapsed, 1), **more})

    model.train()
    for step in run.steps(time_limit=time_limit, stop=stop, export=export_model):
        rows = torch.multinomial(weights, config.batch_size, replacement=True)
        x = augment(x_all[rows], config).contiguous(memory_format=torch.channels_last)
        beta = config.beta * min(1.0, step / max(config.beta_warmup, 1))
        losses = vae_losses(model, x, labels[rows], beta=beta, class_weight=config.class_weight)
        optimizer.zero_grad(set_to_none=True)
        losses["loss"].backward()
        optimizer.step()
        scheduler.step()
        seen += len(rows)
        batches += 1
        window.add(**{key: float(value.detach()) for key, value in losses.items()})
        done = step + 1
        if done % config.log_every == 0 or done == steps:
            run.log(done, **window.take(), beta=beta, lr=scheduler.get_last_lr()[0],
                    samples_per_s=round(seen / max(time.perf_counter() - began, 1e-9), 1))
        if done % config.val_every == 0 or done == steps:
            validate(done)
    stopped_early = run.stopped_early
    if stopped_early or val is None:
        validate(run.step)
    seconds = time.perf_counter() - began
    summary = {
        "out": str(out), "steps": run.step, "total_steps": steps, "stopped_early": stopped_early,
        "train_samples": int(len(x_all)), "val_samples": 0 if x_val is None else int(len(x_val)),
        "classes": labelled, "train_class_counts": counts, "parameters": sum(p.numel() for p in model.parameters()),
        "validation": val, "seconds": round(seconds, 1), "steps_per_s": round(batches / max(seconds, 1e-9), 2),
        "training_seconds_total": round(run.elapsed, 1), "device": str(torch_device), "skipped": skips.to_dict(),
    }
    export_model(validation=val)
    summary["model"] = str(Path(out) / "model.safetensors")
    run.close()
    return summary
