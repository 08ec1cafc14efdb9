"""Reconstruction metrics of a MusicVAE: teacher-forced and sampled accuracy, per class, KL, loss.

A window is encoded to its posterior mean mu and decoded from it:
  - teacher-forced: the decoder reads the true previous events; its argmax at each step is scored;
  - sampled: the decoder runs free from mu, greedily (argmax, its own previous events).
Accuracy counts the steps whose target is not padding; a padding step predicted where a real event
belongs counts as wrong. Per-class figures group targets into no-event, note-off and note-on (a
note-on is right only with the exact pitch).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F

from audiogen.data.melody import NO_EVENT, NOTE_OFF, PAD
from audiogen.musicvae.model import MusicVAE

LN2 = math.log(2.0)
CLASS_GROUPS = ("no_event", "note_off", "note_on")


def kl_divergence(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) summed over the latent: (B, Z) -> (B,) nats."""
    return (0.5 * (mu.square() + sigma.square() - 1.0) - torch.log(sigma)).sum(dim=-1)


def kl_cost(kl: torch.Tensor, free_bits: float) -> torch.Tensor:
    """MusicVAE's KL cost: max(KL - free_bits * ln 2, 0), per window."""
    return torch.clamp(kl - free_bits * LN2, min=0.0)


def _group(targets: torch.Tensor) -> torch.Tensor:
    """(…) classes -> group index 0 no_event, 1 note_off, 2 note_on, 3 padding."""
    group = torch.full_like(targets, 2)
    group[targets == NO_EVENT] = 0
    group[targets == NOTE_OFF] = 1
    group[targets == PAD] = 3
    return group


@torch.no_grad()
def reconstruction_metrics(model: MusicVAE, events: np.ndarray | torch.Tensor, *, batch_size: int = 512,
                           device: torch.device | str = "cpu", sampled: bool = True,
                           labels: np.ndarray | None = None) -> dict:
    """Metrics over windows events (N, T) int; `labels` (N,) str (e.g. meters) adds accuracies per label.

    Returns {"windows", "steps" (non-padding), "tf_accuracy", "sampled_accuracy" (None unless
    `sampled`), "kl" (mean nats), "kl_bits", "recon_loss" (mean summed cross-entropy, nats per
    window), "per_class": {group: {"steps", "tf_accuracy", "sampled_accuracy"}}, "by_label"}.
    """
    was_training = model.training
    model.eval()
    events = torch.as_tensor(np.asarray(events), dtype=torch.long)
    n = len(events)
    tf_right = torch.zeros(4, dtype=torch.long)
    sampled_right = torch.zeros(4, dtype=torch.long)
    counts = torch.zeros(4, dtype=torch.long)
    kl_sum = recon_sum = 0.0
    per_row_tf = torch.zeros(n)
    per_row_sampled = torch.zeros(n)
    per_row_steps = torch.zeros(n)
    for start in range(0, n, batch_size):
        x = events[start:start + batch_size].to(device)
        mu, sigma = model.encode(x)
        kl_sum += kl_divergence(mu, sigma).sum().item()
        logits = model.decode(mu, x)
        recon_sum += F.cross_entropy(logits.transpose(1, 2), x, reduction="sum").item()
        group = _group(x).cpu()
        real = (x != PAD).cpu()
        tf_ok = (logits.argmax(dim=-1) == x).cpu()
        counts += torch.bincount(group.reshape(-1), minlength=4)
        tf_right += torch.bincount(group[tf_ok], minlength=4)
        rows = slice(start, start + len(x))
        per_row_steps[rows] = real.sum(dim=1).float()
        per_row_tf[rows] = (tf_ok & real).sum(dim=1).float()
        if sampled:
            sampled_ok = (model.sample(mu, temperature=0.0) == x).cpu()
            sampled_right += torch.bincount(group[sampled_ok], minlength=4)
            per_row_sampled[rows] = (sampled_ok & real).sum(dim=1).float()
    model.train(was_training)

    steps = int(counts[:3].sum())
    per_class = {}
    for i, name in enumerate(CLASS_GROUPS):
        c = int(counts[i])
        per_class[name] = {"steps": c, "tf_accuracy": _ratio(tf_right[i], c),
                           "sampled_accuracy": _ratio(sampled_right[i], c) if sampled else None}
    result = {
        "windows": n, "steps": steps,
        "tf_accuracy": _ratio(tf_right[:3].sum(), steps),
        "sampled_accuracy": _ratio(sampled_right[:3].sum(), steps) if sampled else None,
        "kl": kl_sum / max(n, 1), "kl_bits": kl_sum / max(n, 1) / LN2, "recon_loss": recon_sum / max(n, 1),
        "per_class": per_class,
    }
    if labels is not None:
        labels = np.asarray(labels)
        by_label = {}
        for label in sorted(set(labels.tolist()), key=lambda s: -int((labels == s).sum())):
            rows = torch.as_tensor(labels == label)
            c = int(per_row_steps[rows].sum())
            by_label[str(label)] = {"windows": int(rows.sum()), "tf_accuracy": _ratio(per_row_tf[rows].sum(), c),
                                    "sampled_accuracy": _ratio(per_row_sampled[rows].sum(), c) if sampled else None}
        result["by_label"] = by_label
    return result


def _ratio(right, total: int) -> float | None:
    return float(right) / total if total else None



def heldout_windows(data, loaded, *, meter: str | None = None, max_windows: int | None = None,
                    track: int | None = None, skips=None, on_start=None, on_item=None) -> dict[str, np.ndarray]:
    """The windows of `loaded`'s length (a `MusicVAEModel`) that `data` gives (.npz window sets,
    MIDI/ABC files or folders): {"events" (N, T), "meter" (N,), "source" (N,)}, only those in
    `meter` when given, at most `max_windows` (an even spread). BadInputError naming the first
    path when no window is in `meter`.
    """
    from audiogen.data.skips import SkipLog
    from audiogen.errors import BadInputError
    from audiogen.musicvae.config import config_from_dict
    from audiogen.musicvae.data import read_window_sets

    arrays = read_window_sets(data, loaded.bars, config_from_dict(loaded.config).hop_bars,
                              skips=skips if skips is not None else SkipLog(), track=track,
                              on_start=on_start, on_item=on_item)
    events, meters, sources = arrays["events"], arrays["meter"], arrays["source"]
    if meter is not None:
        chosen = meters == meter.strip()
        if not chosen.any():
            found = ", ".join(sorted(set(meters.tolist()), key=lambda m: -int((meters == m).sum()))[:8])
            raise BadInputError(data[0], f"no window in {meter.strip()} (meters here: {found})")
        events, meters, sources = events[chosen], meters[chosen], sources[chosen]
    if max_windows is not None and len(events) > max_windows:
        rows = np.linspace(0, len(events) - 1, max_windows).round().astype(int)
        events, meters, sources = events[rows], meters[rows], sources[rows]
    return {"events": events, "meter": meters, "source": sources}
