"""Training timbre translation: pix2pix on paired renders, CycleGAN on two unrelated folders.

Paired (pix2pix, docs/design.md §4): G(a) against the true b with L1 (weight `l1_weight`) plus a
conditional PatchGAN on (a, G(a)) vs (a, b) with the non-saturating (BCE) loss.
Unpaired (CycleGAN): G: a -> b and F: b -> a, PatchGANs on each side with least-squares losses,
cycle L1 `cycle_weight` * (|F(G(a)) - a| + |G(F(b)) - b|), identity L1 `identity_weight` *
cycle_weight * (|G(b) - b| + |F(a) - a|), and a pool of `pool_size` past fakes for each D.
Every L1 here (`spec_l1`) is the log-magnitude error with both sides floored 80 dB below the
target's peak (what lies under it is inaudible beside the peak), plus `if_weight` times the IF
error over bins within 60 dB of the target's peak (IF elsewhere is the phase of noise).
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from audiogen.errors import AudiogenError
from audiogen.translate.data import SILENCE, ClipSet, CropSampler, encode
from audiogen.translate.model import Discriminators, Translator

from audiogen.translate.config import (  # noqa: F401  (the config lives in config.py; re-exported here)
    KIND, DB, IF_FLOOR, MAGNITUDE_FLOOR, TranslateTrainConfig, CONFIGS, SHAPE_FIELDS, config_from_dict,
    representation, model_config)


def spec_l1(output: torch.Tensor, target: torch.Tensor, if_weight: float) -> torch.Tensor:
    """Mean |log-magnitude error| (both floored 80 dB under the target's peak) + if_weight * mean
    |IF error| where the target is within 60 dB of its peak. (B, 2, frames, bins) pairs -> scalar."""
    peak = target[:, 0].amax(dim=(-2, -1), keepdim=True)
    floor = peak - MAGNITUDE_FLOOR
    magnitude = (torch.maximum(output[:, 0], floor) - torch.maximum(target[:, 0], floor)).abs().mean()
    loud = target[:, 0] > peak - IF_FLOOR
    inst = ((output[:, 1] - target[:, 1]).abs() * loud).sum() / loud.sum().clamp_min(1)
    return magnitude + if_weight * inst


class FakePool:
    """CycleGAN's history of generated images: D sees a mix of new fakes and up to `size` old ones."""

    def __init__(self, size: int, rng: random.Random):
        self.size, self.rng, self.images = size, rng, []

    def query(self, fakes: torch.Tensor) -> torch.Tensor:
        if self.size == 0:
            return fakes
        out = []
        for image in fakes.detach():
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif self.rng.random() < 0.5:
                k = self.rng.randrange(self.size)
                out.append(self.images[k])
                self.images[k] = image
            else:
                out.append(image)
        return torch.stack(out)


def eq_augment(spec: torch.Tensor, max_db: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random EQ on each item's log-magnitude (another piano, another microphone): a tilt of up
    to +-max_db from the lowest to the highest bin plus a ripple of up to +-max_db/2.
    (B, 2, frames, bins) normalised -> the same; IF is untouched."""
    if max_db <= 0:
        return spec
    b, bins = spec.shape[0], spec.shape[-1]
    r = torch.rand(b, 4, generator=generator).to(spec.device)
    f = torch.linspace(-0.5, 0.5, bins, device=spec.device)
    db = (max_db * (2 * r[:, :1] - 1) * f + 0.5 * max_db * (2 * r[:, 1:2] - 1)
          * torch.sin(math.pi * (1 + 3 * r[:, 2:3]) * f + 2 * math.pi * r[:, 3:4]))
    gain = db * DB
    out = spec.clone()
    out[:, 0] = torch.where(spec[:, 0] > SILENCE + 0.01, spec[:, 0] + gain[:, None, :], spec[:, 0]).clamp(-1.0, 1.0)
    return out


def gate_augment(spec: torch.Tensor, prob: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Silence the bins quieter than 30-60 dB (random) under the peak in a `prob` share of the
    items: a recording with no noise floor (a cleaner SoundFont, a gated take) must not leave the
    output without one. (B, 2, frames, bins) normalised -> the same."""
    if prob <= 0:
        return spec
    b = spec.shape[0]
    r = torch.rand(b, 2, generator=generator).to(spec.device)
    peak = spec[:, 0].amax(dim=(-2, -1))
    threshold = (peak - (30 + 30 * r[:, 1]) * DB).view(b, 1, 1)
    gated = torch.where(spec[:, 0] < threshold, torch.full_like(spec[:, 0], SILENCE), spec[:, 0])
    out = spec.clone()
    out[:, 0] = torch.where((r[:, 0] < prob).view(b, 1, 1), gated, spec[:, 0])
    return out


def _bce(logits: torch.Tensor, real: bool) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, float(real)))


def _lsgan(logits: torch.Tensor, real: bool) -> torch.Tensor:
    return (logits - float(real)).square().mean()


def paired_step(g: Translator, d: Discriminators, opt_g, opt_d, a: torch.Tensor, b: torch.Tensor,
                config: TranslateTrainConfig) -> dict[str, float]:
    """One pix2pix update on spectrogram batches a, b: (B, 2, frames, bins)."""
    fake = g(a)
    d_real = d.b(torch.cat([a, b], 1))
    d_fake = d.b(torch.cat([a, fake.detach()], 1))
    loss_d = 0.5 * (_bce(d_real, True) + _bce(d_fake, False))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    adv = _bce(d.b(torch.cat([a, fake], 1)), True)
    l1 = spec_l1(fake, b, config.if_weight)
    loss_g = adv + config.l1_weight * l1
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    with torch.no_grad():
        identity = spec_l1(a, b, config.if_weight)
    return {k: float(v.detach()) for k, v in (("loss", loss_g), ("l1", l1), ("identity_l1", identity),
                                               ("g_adv", adv), ("d_loss", loss_d))}


def cycle_step(g: Translator, d: Discriminators, opt_g, opt_d, a: torch.Tensor, b: torch.Tensor,
               config: TranslateTrainConfig, pools: tuple[FakePool, FakePool]) -> dict[str, float]:
    """One CycleGAN update on unrelated batches a, b: (B, 2, frames, bins)."""
    w = config.if_weight
    fake_b, fake_a = g.ab(a), g.ba(b)
    cycle = spec_l1(g.ba(fake_b), a, w) + spec_l1(g.ab(fake_a), b, w)
    identity = spec_l1(g.ab(b), b, w) + spec_l1(g.ba(a), a, w)
    adv = _lsgan(d.b(fake_b), True) + _lsgan(d.a(fake_a), True)
    loss_g = adv + config.cycle_weight * cycle + config.identity_weight * config.cycle_weight * identity
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    loss_d = 0.5 * (_lsgan(d.b(b), True) + _lsgan(d.b(pools[1].query(fake_b)), False)
                    + _lsgan(d.a(a), True) + _lsgan(d.a(pools[0].query(fake_a)), False))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    return {k: float(v.detach()) for k, v in (("loss", loss_g), ("cycle", cycle), ("identity", identity),
                                               ("g_adv", adv), ("d_loss", loss_d))}


@torch.no_grad()
def validation_metrics(g: Translator, a: torch.Tensor, b: torch.Tensor | None, config: TranslateTrainConfig) -> dict:
    """Held-out crops: paired -> L1 of G(a) to b beside the input's own (identity); unpaired ->
    the cycle error |F(G(a)) - a| (+ |G(F(b)) - b| when b is given)."""
    was = g.training
    g.eval()
    w = config.if_weight
    if g.ba is None:
        result = {"l1": float(spec_l1(g(a), b, w)), "identity_l1": float(spec_l1(a, b, w))}
    else:
        result = {"cycle_a": float(spec_l1(g.ba(g.ab(a)), a, w))}
        if b is not None:
            result["cycle_b"] = float(spec_l1(g.ab(g.ba(b)), b, w))
            result["cycle"] = result["cycle_a"] + result["cycle_b"]
    g.train(was)
    return result


def split_rows(count: int, fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """(training rows, held-out rows) of `count` clips; at least one clip stays for training."""
    rows = np.random.default_rng(seed).permutation(count).tolist()
    held = min(int(round(count * fraction)), count - 1)
    return sorted(rows[held:]), sorted(rows[:held])


def train_translate(out: str | os.PathLike, *, config: TranslateTrainConfig, steps: int,
                    pairs: Sequence[str | os.PathLike] = (), side_a: Sequence[str | os.PathLike] = (),
                    side_b: Sequence[str | os.PathLike] = (), checkpoint_every: int = 500,
                    resume: bool = False, init_from: str | os.PathLike | None = None, device: str = "auto",
                    time_limit: float | None = None, stop: Callable[[int], bool] | None = None,
                    strict: bool = False, quiet: bool = False, requested: dict | None = None) -> dict:
    """Train (or resume, or fine-tune) a translation model; returns a summary dict.

    Paired: `pairs` are `data pairs` folders (a/ -> b/). Unpaired: `side_a` and `side_b` are
    folders of audio files (any lengths, unrelated recordings). `val_fraction` of the clips of
    each source are held out for the validation figures.
    """
    from audiogen.data.skips import SkipLog
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.progress import make_progress
    from audiogen.runtime.seeding import seed_everything
    from audiogen.runtime.training import LossWindow, TrainingRun, starting_config
    from audiogen.translate.data import load_folder, load_pairs

    cycle = not pairs
    if resume and init_from is not None:
        raise AudiogenError("--init-from cannot be combined with --resume: the checkpoint already holds the weights")
    if cycle and not (side_a and side_b):
        raise AudiogenError("give --data PAIRS_DIR (paired) or --unpaired with --a DIR and --b DIR")
    torch_device = resolve_device(device)
    config = starting_config(config, out, kind=KIND, resume=resume, init_from=init_from, from_dict=config_from_dict,
                             model_fields=SHAPE_FIELDS, requested=requested)
    rep = representation(config)
    skips = SkipLog(strict=strict)
    programs: dict = ({"name_a": Path(side_a[0]).name, "name_b": Path(side_b[0]).name} if cycle else {})
    with make_progress(quiet=quiet, unit="file") as progress:
        task = progress.add_task("read clips", total=None)
        tick = lambda: progress.advance(task)  # noqa: E731
        if cycle:
            sets = [_merge([load_folder(p, rep, skips=skips, on_item=tick) for p in side]) for side in (side_a, side_b)]
        else:
            from audiogen.data.pairs import read_pairs_manifest

            sets = [_merge([load_pairs(p, rep, skips=skips, on_item=tick) for p in pairs])]
            manifests = [read_pairs_manifest(p) for p in pairs]
            programs = {k: manifests[0].get(k) for k in ("program_a", "program_b", "name_a", "name_b")}
            programs["soundfonts"] = sorted({str(m.get("soundfont")) for m in manifests})
            for side in ("a", "b"):
                programs[f"programs_{side}"] = sorted({m.get(f"program_{side}") for m in manifests}, key=str)
            if len(programs["programs_b"]) > 1:
                from audiogen.data.skips import warn

                warn(f"the --data folders render side b with different programs ({programs['programs_b']}); "
                     f"the model learns one mixture of them")
    trains, vals = [], []
    for i, clips in enumerate(sets):
        train_rows, val_rows = split_rows(len(clips), config.val_fraction, config.seed + i)
        trains.append(clips.subset(train_rows))
        vals.append(clips.subset(val_rows) if val_rows else None)
    if any(len(c) == 0 for c in trains):
        raise AudiogenError("no usable training clips" + (f" ({len(skips)} files skipped)" if len(skips) else ""))

    seed_everything(config.seed)
    crop = rep.samples_for_frames(config.crop_frames)
    # each step's crops come from a generator seeded by (seed, side, step): a resumed run draws what
    # the uninterrupted one would have (the CycleGAN pool of past fakes starts empty again)
    samplers = [CropSampler(c, crop, np.random.default_rng(config.seed + 10 + i)) for i, c in enumerate(trains)]
    preview = CropSampler(trains[0], crop, np.random.default_rng(config.seed + 200))
    val_batches = []
    for i, v in enumerate(vals):
        if v is not None:
            wa, wb = CropSampler(v, crop, np.random.default_rng(config.seed + 100 + i)).batch(config.val_crops)
            val_batches.append((encode(wa, rep).to(torch_device), None if wb is None else encode(wb, rep).to(torch_device)))
        else:
            val_batches.append(None)

    mconfig = model_config(config)
    g = Translator(mconfig, cycle=cycle).to(torch_device)
    d = Discriminators(mconfig, cycle=cycle).to(torch_device)
    betas = (config.beta1, 0.999)
    opt_g = torch.optim.Adam(g.parameters(), lr=config.lr, betas=betas)
    opt_d = torch.optim.Adam(d.parameters(), lr=config.lr, betas=betas)
    decay_start = int(steps * config.decay_from)
    rate = lambda s: 1.0 if s < decay_start else max(0.0, 1.0 - (s - decay_start) / max(steps - decay_start, 1))  # noqa: E731
    schedulers = {"lr_g": torch.optim.lr_scheduler.LambdaLR(opt_g, rate),
                  "lr_d": torch.optim.lr_scheduler.LambdaLR(opt_d, rate)}
    run_config = {**asdict(config), "mode": "unpaired" if cycle else "paired"}
    run = TrainingRun(out, kind=KIND, config=run_config, modules={"model": g, "disc": d},
                      optimizers={"opt_g": opt_g, "opt_d": opt_d}, schedulers=schedulers, total_steps=steps,
                      checkpoint_every=checkpoint_every, resume=resume, init_from=None, quiet=quiet)
    if init_from is not None:
        _init_generators(g, init_from, cycle)
    run.use_data(list(pairs) if pairs else list(side_a) + list(side_b))
    pools = (FakePool(config.pool_size, random.Random(config.seed)), FakePool(config.pool_size, random.Random(config.seed + 1)))

    val: dict | None = None

    def validate(step: int) -> None:
        nonlocal val
        if cycle:
            if val_batches[0] is None:
                return
            val = validation_metrics(g, val_batches[0][0], val_batches[1][0] if val_batches[1] else None, config)
        else:
            if val_batches[0] is None:
                return
            val = validation_metrics(g, val_batches[0][0], val_batches[0][1], config)
        run.log(step, **{f"val_{k}": v for k, v in val.items()})

    def draw(step: int) -> None:
        source = val_batches[0] if val_batches[0] is not None else None
        if source is None:
            preview.rng = np.random.default_rng(config.seed + 200)
            wa, wb = preview.batch(1)
            source = (encode(wa, rep).to(torch_device), None if wb is None else encode(wb, rep).to(torch_device))
        a = source[0][:1]
        was = g.training
        g.eval()
        with torch.no_grad():
            out_b = g(a)
            panels = [("input (a)", a[0]), ("output G(a)", out_b[0])]
            panels.append(("cycle F(G(a))", g.ba(out_b)[0]) if cycle else ("target (b)", source[1][0]))
        g.train(was)
        try:
            from audiogen.translate.pictures import draw_spectrograms

            draw_spectrograms(run.out_dir / "snapshots" / f"step-{step:07d}.png", panels, rep,
                     f"{'unpaired' if cycle else 'paired'} translation, step {step}")
        except ImportError:  # a lean GPU machine without matplotlib still trains
            pass

    began, seen, batches = time.perf_counter(), 0, 0
    window = LossWindow(run)

    def export_model(**more) -> Path:
        return run.export(dtype=torch.float16, tensors={f"model.{k}": v for k, v in g.state_dict().items()}, extra={
            "mode": run_config["mode"], "representation": rep.to_dict(), "programs": programs,
            "train_clips": [len(c) for c in trains], "train_seconds_of_audio": [round(sum(map(len, c.a)) / rep.sample_rate, 1) for c in trains],
            "training_seconds": round(run.elapsed, 1), **more})

    g.train()
    d.train()
    for step in run.steps(time_limit=time_limit, stop=stop, export=export_model):
        for i, sampler in enumerate(samplers):
            sampler.rng = np.random.default_rng([config.seed, i, step])
        wa, wb = samplers[0].batch(config.batch_size)
        if cycle:
            wb = samplers[1].batch(config.batch_size)[0]
        a, b = encode(wa, rep).to(torch_device), encode(wb, rep).to(torch_device)
        if not cycle:
            a = gate_augment(eq_augment(a, config.eq_augment_db), config.gate_prob)
        losses = (cycle_step(g, d, opt_g, opt_d, a, b, config, pools) if cycle
                  else paired_step(g, d, opt_g, opt_d, a, b, config))
        for scheduler in schedulers.values():
            scheduler.step()
        seen += len(a)
        batches += 1
        window.add(**losses)
        done = step + 1
        if done % config.log_every == 0 or done == steps:
            run.log(done, **window.take(), lr=schedulers["lr_g"].get_last_lr()[0],
                    crops_per_s=round(seen / max(time.perf_counter() - began, 1e-9), 2))
        if done % config.val_every == 0 or done == steps:
            validate(done)
        if done % config.snapshot_every == 0 or done == steps:
            draw(done)
        if checkpoint_every and done % checkpoint_every == 0 and done < steps:
            export_model(trained_steps=done)  # model.safetensors follows the run, to evaluate while it trains
    stopped_early = run.stopped_early
    if stopped_early or val is None:
        validate(run.step)
    seconds = time.perf_counter() - began
    summary = {
        "out": str(out), "mode": run_config["mode"], "steps": run.step, "total_steps": steps,
        "stopped_early": stopped_early, "train_clips": [len(c) for c in trains],
        "val_clips": [0 if v is None else len(v) for v in vals],
        "parameters": sum(p.numel() for p in g.parameters()), "validation": val, "seconds": round(seconds, 1),
        "steps_per_s": round(batches / max(seconds, 1e-9), 3), "training_seconds_total": round(run.elapsed, 1),
        "device": str(torch_device), "skipped": skips.to_dict(),
    }
    export_model(validation=val)
    summary["model"] = str(Path(out) / "model.safetensors")
    run.close()
    return summary


def _merge(sets: list[ClipSet]) -> ClipSet:
    names, a, b = [], [], []
    for s in sets:
        names += s.names
        a += s.a
        if s.b is not None:
            b += s.b
    return ClipSet(names, a, b if sets and sets[0].b is not None else None)


def _init_generators(g: Translator, path: str | os.PathLike, cycle: bool) -> None:
    """Fine-tune: the generators of a translate model file of the same sizes and mode."""
    from audiogen.errors import BadInputError
    from audiogen.runtime.modelfile import load_model

    loaded = load_model(path, kind=KIND)
    if (loaded.extra.get("mode") == "unpaired") != cycle:
        raise BadInputError(path, f"is a {loaded.extra.get('mode')} model; this run is "
                                  f"{'unpaired' if cycle else 'paired'}")
    try:
        g.load_state_dict(loaded.state_dict(prefix="model."))
    except RuntimeError as e:
        raise BadInputError(path, f"its sizes differ from this run's ({str(e).splitlines()[0]})") from None
