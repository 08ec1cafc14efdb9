"""Training the evaluation pitch classifier on real NSynth notes (like the classifier Magenta's
GANSynth metrics use): cross-entropy over 128 MIDI pitches, batches read from the note cache,
each note seen through a random ~2-s window of its first 2.5 s."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from audiogen.errors import AudiogenError
from audiogen.gansynth.model import PitchClassifier, PitchClassifierConfig

KIND = "pitch-classifier"
BUNDLED_NAME = "pitch-classifier.safetensors"
MAX_START_FRAME = 8  # the window starts within the first ~0.5 s: it stays in the held part


@dataclass(frozen=True)
class PitchClassifierTrainConfig:
    channels: tuple[int, ...] = (32, 64, 64)
    embedding: int = 128
    batch_size: int = 64
    lr: float = 1e-3
    val_fraction: float = 0.1   # held out when no --val-data is given
    filters: tuple[str, ...] = ("gansynth",)
    log_every: int = 50
    seed: int = 0


def config_from_dict(data: dict) -> PitchClassifierTrainConfig:
    from audiogen.runtime.configs import dataclass_from_dict

    return dataclass_from_dict(PitchClassifierTrainConfig, data)


def classifier_model_config(config: PitchClassifierTrainConfig | dict) -> PitchClassifierConfig:
    c = config if isinstance(config, dict) else asdict(config)
    return PitchClassifierConfig(channels=tuple(c.get("channels", (32, 64, 64))), embedding=int(c.get("embedding", 128)))


def load_pitch_classifier(path: str | os.PathLike | None = None, device: torch.device | str = "cpu"):
    """(classifier in eval mode, loaded file) from `path`, or the bundled classifier when None."""
    from audiogen.runtime.modelfile import load_family_model

    return load_family_model(path, kind=KIND, bundled_name=BUNDLED_NAME, device=device,
                             build=lambda f: PitchClassifier(classifier_model_config(f.config)))


def accuracy_on(classifier: PitchClassifier, cache, rows: np.ndarray, *, batch: int = 256, on_notes=None) -> float:
    """Share of notes `rows` of a cache whose pitch the classifier names (window at the onset)."""
    from audiogen.gansynth.classifier_input import classify_waves

    if len(rows) == 0:
        return float("nan")
    probs, _ = classify_waves(classifier, torch.from_numpy(cache.waves(np.sort(rows))), batch=batch,
                              on_notes=on_notes)
    pitches = torch.from_numpy(cache.labels["pitch"][np.sort(rows)].astype(np.int64))
    return float((probs.argmax(1) == pitches).float().mean())


def train_pitch_classifier(data: str | os.PathLike, out: str | os.PathLike, *, config: PitchClassifierTrainConfig,
                           steps: int = 1500, val_data: str | os.PathLike | None = None,
                           cache_root: str | os.PathLike | None = None, checkpoint_every: int = 500,
                           resume: bool = False, device: str = "auto", time_limit: float | None = None,
                           stop: Callable[[int], bool] | None = None, strict: bool = False,
                           quiet: bool = False, init_from: str | os.PathLike | None = None,
                           requested: dict | None = None) -> dict:
    """Train the classifier on the notes of an NSynth folder (or fine-tune the model file
    `init_from`: its widths); returns a summary with held-out accuracy."""
    from audiogen.data.nsynth import NSynthFilter
    from audiogen.data.nsynth_cache import build_cache
    from audiogen.data.skips import SkipLog
    from audiogen.gansynth.classifier_input import pitch_input
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.seeding import seed_everything
    from audiogen.runtime.training import LossWindow, TrainingRun, starting_config

    torch_device = resolve_device(device)
    config = starting_config(config, out, kind=KIND, resume=resume, init_from=init_from, from_dict=config_from_dict,
                             model_fields=("channels", "embedding"), requested=requested)
    filt = NSynthFilter.parse(list(config.filters))
    skips = SkipLog(strict=strict, warn=not quiet)
    cache, _ = build_cache(data, filt, cache_root=cache_root, skips=skips)
    rng = np.random.default_rng(config.seed)
    if val_data is not None:
        val_cache, _ = build_cache(val_data, filt, cache_root=cache_root, skips=skips)
        train_rows, val_rows = np.arange(len(cache)), np.arange(len(val_cache))
    else:
        val_cache = cache
        order = rng.permutation(len(cache))
        n_val = int(round(len(cache) * config.val_fraction))
        val_rows, train_rows = order[:n_val], order[n_val:]
    if len(train_rows) == 0:
        raise AudiogenError(f"{data}: no notes left to train the pitch classifier on")
    pitches = torch.from_numpy(cache.labels["pitch"].astype(np.int64))

    seed_everything(config.seed)
    classifier = PitchClassifier(classifier_model_config(config)).to(torch_device)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + np.cos(np.pi * min(s / max(steps, 1), 1.0))))
    run = TrainingRun(out, kind=KIND, config=asdict(config), modules={"model": classifier},
                      optimizers={"opt": optimizer}, schedulers={"lr": scheduler}, total_steps=steps,
                      checkpoint_every=checkpoint_every, resume=resume, init_from=init_from, quiet=quiet)
    run.use_data(data)
    began = time.perf_counter()
    window = LossWindow(run)
    classifier.train()

    def export_model(**more) -> Path:
        return run.export(dtype=torch.float16, extra={"train_notes": int(len(train_rows)),
                                                      "val_notes": int(len(val_rows)), **more})

    for step in run.steps(time_limit=time_limit, stop=stop, export=export_model):
        g = np.random.default_rng([config.seed, step])
        rows = np.sort(g.choice(train_rows, size=min(config.batch_size, len(train_rows)), replace=False))
        waves = torch.from_numpy(cache.waves(rows)).to(torch_device)
        starts = torch.from_numpy(g.integers(0, MAX_START_FRAME + 1, len(rows))).to(torch_device)
        logits, _ = classifier(pitch_input(waves, start_frame=starts))
        loss = F.cross_entropy(logits, pitches[rows].to(torch_device))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        window.add(loss=float(loss.detach()))
        if (step + 1) % config.log_every == 0 or step + 1 == steps:
            run.log(step + 1, **window.take(), lr=scheduler.get_last_lr()[0])
    classifier.eval()
    from audiogen.runtime.progress import make_progress

    with make_progress(quiet=quiet, unit="note") as progress:  # about a minute on a CPU: say so
        task = progress.add_task("held-out accuracy", total=len(val_rows) + len(train_rows[:2000]))
        val_accuracy = accuracy_on(classifier, val_cache, val_rows, on_notes=lambda n: progress.advance(task, n))
        train_accuracy = accuracy_on(classifier, cache, train_rows[:2000],
                                     on_notes=lambda n: progress.advance(task, n))
    run.log(run.step, val_accuracy=val_accuracy, train_accuracy=train_accuracy)
    export_model(val_accuracy=val_accuracy)
    run.close()
    return {"out": str(out), "steps": run.step, "total_steps": steps, "stopped_early": run.stopped_early,
            "train_notes": int(len(train_rows)), "val_notes": int(len(val_rows)), "val_accuracy": val_accuracy,
            "train_accuracy": train_accuracy, "seconds": round(time.perf_counter() - began, 1),
            "device": str(torch_device), "skipped": skips.to_dict(), "model": str(Path(out) / "model.safetensors")}
