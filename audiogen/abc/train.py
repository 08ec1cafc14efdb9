"""Training loop of the ABC char-LSTM (truncated BPTT, validation by tune, bits per character)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from audiogen.abc.data import EpochStream, split_by_tune, training_text
from audiogen.abc.metrics import bits_per_char
from audiogen.abc.model import CharLSTM
from audiogen.notation.bars import scan_share
from audiogen.notation.tunes import fingerprint, header_field, histogram
from audiogen.abc.vocab import CharVocab
from audiogen.data.skips import SkipLog
from audiogen.errors import AudiogenError

from audiogen.abc.config import (  # noqa: F401  (the config lives in config.py; re-exported here)
    KIND, AbcTrainConfig, CONFIGS, SHAPE_FIELDS, model_config, config_from_dict)


def _lr_factor(config: AbcTrainConfig, total_steps: int):
    final = config.lr_final / config.lr

    def factor(step: int) -> float:
        progress = min(step / max(total_steps, 1), 1.0)
        return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def read_training_tunes(data: Sequence[str | os.PathLike], skips: SkipLog) -> list[str]:
    """Training texts of every tune in the files/folders `data`; AudiogenError when there are none."""
    from audiogen.data.abc import read_abc

    tunes = read_abc(data, skips=skips)
    if not tunes:
        raise AudiogenError(f"no ABC tunes in {', '.join(map(str, data))}")
    return [training_text(t.text) for t in tunes]


def train_abc(data: Sequence[str | os.PathLike], out: str | os.PathLike, *, config: AbcTrainConfig,
              steps: int, checkpoint_every: int = 500, resume: bool = False,
              init_from: str | os.PathLike | None = None, device: str = "auto", time_limit: float | None = None,
              stop: Callable[[int], bool] | None = None, strict: bool = False, quiet: bool = False,
              requested: dict | None = None) -> dict:
    """Train (or resume, or fine-tune) a char-LSTM on ABC files; returns a summary dict.

    `time_limit` (seconds of training in this session) or `stop(step)` returning True stops
    early, before that step, with a checkpoint and an exported model; `resume` continues the
    same run (same learning-rate schedule) to `steps`.
    """
    from audiogen.runtime.device import resolve_device
    from audiogen.runtime.modelfile import load_model
    from audiogen.runtime.seeding import seed_everything
    from audiogen.runtime.training import LossWindow, TrainingRun, read_run_config, refuse_changed_config

    torch_device = resolve_device(device)
    skips = SkipLog(strict=strict)
    texts = read_training_tunes(data, skips)

    vocab: CharVocab | None = None
    if resume:
        saved = read_run_config(out)
        if saved is None:
            raise AudiogenError(f"{out}: no config.json to resume from")
        refuse_changed_config(out, saved, requested)
        config = config_from_dict(saved)
        vocab = CharVocab.from_json(saved["vocab"])
    elif init_from is not None:
        base = load_model(init_from, kind=KIND)
        config = replace(config_from_dict(base.config), **{k: getattr(config, k) for k in
                                                           ("seq_len", "batch_size", "lr", "lr_final",
                                                            "val_every", "log_every", "seed")})
        vocab = CharVocab.from_json(base.extra["vocab"])
    if vocab is not None:
        kept = [t for t in texts if not vocab.unknown(t)]
        dropped = len(texts) - len(kept)
        if dropped:
            from audiogen.data.skips import warn

            warn(f"{dropped} tunes use characters outside the model's vocabulary and are left out")
        texts = kept
        if not texts:
            raise AudiogenError("no tune can be written with the model's vocabulary")
    else:
        vocab = CharVocab.from_texts(texts)

    seed_everything(config.seed)
    train_texts, val_texts = split_by_tune(texts, config.val_fraction, config.seed)
    try:
        stream = EpochStream(train_texts, vocab, config.batch_size, config.seq_len, config.seed)
    except ValueError as e:
        raise AudiogenError(str(e)) from None
    model = CharLSTM(model_config(config, len(vocab))).to(torch_device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_factor(config, steps))
    run_config = {**asdict(config), "vocab": vocab.to_json()}
    run = TrainingRun(out, kind=KIND, config=run_config, modules={"model": model},
                      optimizers={"opt": optimizer}, schedulers={"lr": scheduler}, total_steps=steps,
                      checkpoint_every=checkpoint_every, resume=resume, init_from=init_from, quiet=quiet)
    run.use_data(data)
    state = None
    if resume:
        stream.restore(run.state.get("stream", {"epoch": 0, "offset": 0}))
        if run.state.get("hidden") is not None:
            state = tuple(t.to(torch_device) for t in run.state["hidden"])

    val_bpc = None
    began, chars = time.perf_counter(), 0
    window = LossWindow(run)
    model.train()

    train_scans = scan_share(train_texts)  # what `eval abc` shows beside its samples' share

    def export_model(**more) -> Path:
        return run.export(dtype=torch.float16, extra={
            "vocab": vocab.to_json(), "val_bpc": val_bpc, "train_tunes": len(train_texts), "val_tunes": len(val_texts),
            "training_seconds": round(run.elapsed, 1),
            # what `eval abc` compares samples with, so the model file alone is enough
            "train_fingerprints": sorted({f for f in map(fingerprint, train_texts) if f}),
            "meter_histogram": histogram(header_field(t, "M") for t in train_texts),
            "key_histogram": histogram(header_field(t, "K") for t in train_texts),
            "train_scans": train_scans, **more})

    for step in run.steps(time_limit=time_limit, stop=stop, export=export_model):
        x, y, new_epoch = stream.next()
        x, y = x.to(torch_device), y.to(torch_device)
        if new_epoch:
            state = None
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        run.state["stream"] = stream.position()
        run.state["hidden"] = tuple(s.cpu() for s in state)
        chars += x.numel()
        window.add(train_bpc=loss.item() / math.log(2))
        done = step + 1
        if done % config.log_every == 0 or done == steps:
            seconds = time.perf_counter() - began
            run.log(done, **window.take(), lr=scheduler.get_last_lr()[0],
                    epoch=stream.epoch, chars_per_s=round(chars / max(seconds, 1e-9)))
        if val_texts and (done % config.val_every == 0 or done == steps):
            val_bpc = bits_per_char(model, val_texts, vocab, device=torch_device)
            run.log(done, val_bpc=val_bpc)
    stopped_early = run.stopped_early
    if stopped_early:
        if val_texts:
            val_bpc = bits_per_char(model, val_texts, vocab, device=torch_device)
            run.log(run.step, val_bpc=val_bpc)
    seconds = time.perf_counter() - began
    summary = {
        "out": str(out), "steps": run.step, "total_steps": steps, "stopped_early": stopped_early,
        "train_tunes": len(train_texts), "val_tunes": len(val_texts), "vocab_size": len(vocab),
        "parameters": sum(p.numel() for p in model.parameters()), "val_bpc": val_bpc,
        "epochs": round(stream.epoch + stream.offset / max(stream.chars_per_epoch / config.batch_size, 1), 2),
        "seconds": round(seconds, 1), "chars_per_s": round(chars / max(seconds, 1e-9)),
        "training_seconds_total": round(run.elapsed, 1), "device": str(torch_device),
        "skipped": skips.to_dict(),
    }
    export_model()
    summary["model"] = str(Path(out) / "model.safetensors")
    run.close()
    return summary
