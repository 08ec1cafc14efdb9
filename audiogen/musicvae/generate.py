"""Sampling, reconstruction, interpolation and attribute arithmetic with a trained MusicVAE.

Latent codes are (N, latent) float32 tensors on the model's device; event sequences are
(N, bars * 16) int64 (classes of `audiogen.data.melody`).
"""

from __future__ import annotations

import numpy as np
import torch

from audiogen.data.melody import PAD, SEGMENT_STEPS
from audiogen.errors import AudiogenError
from audiogen.musicvae.model import MusicVAE
from audiogen.musicvae.forms import BarForms
from audiogen.musicvae.prior import FittedPrior, latent_codes

DEFAULT_TEMPERATURE = 0.5


def meter_layout(meter: str, bars: int) -> torch.Tensor:
    """The padding layout (T = bars*16,) bool of windows in a meter ("3/4": 12 real steps + 4 PAD a segment).

    A bar of more than 16 steps (9/8) fills one segment and continues in the next, as the data
    windows do. AudiogenError for a meter that is not N/D with D in 1, 2, 4, 8, 16 giving whole steps.
    """
    try:
        numerator, denominator = (int(part) for part in meter.split("/"))
    except ValueError:
        raise AudiogenError(f"--meter {meter!r}: expected N/D, e.g. 4/4, 3/4 or 6/8") from None
    if numerator < 1 or denominator not in (1, 2, 4, 8, 16):
        raise AudiogenError(f"--meter {meter!r}: the bar must be a whole number of 16th notes")
    bar_steps = numerator * 16 // denominator
    lengths: list[int] = []
    while len(lengths) < bars:
        left = bar_steps
        while left > 0 and len(lengths) < bars:
            lengths.append(min(left, SEGMENT_STEPS))
            left -= SEGMENT_STEPS
    return (torch.arange(SEGMENT_STEPS)[None, :] >= torch.tensor(lengths)[:, None]).reshape(-1)


@torch.no_grad()
def encode(model: MusicVAE, events: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """events (N, T) -> encoder (mu, sigma), each (N, latent), on the model's device."""
    device = next(model.parameters()).device
    x = torch.as_tensor(np.asarray(events), dtype=torch.long, device=device)
    if x.ndim == 1:
        x = x[None]
    return model.encode(x)


@torch.no_grad()
def decode(model: MusicVAE, z: torch.Tensor, *, temperature: float = DEFAULT_TEMPERATURE,
           generator: torch.Generator | None = None, layout: torch.Tensor | None = None,
           batch_size: int = 1024) -> np.ndarray:
    """codes (N, latent) -> events (N, T) int8, decoded in batches; temperature 0 is greedy."""
    out = []
    for start in range(0, len(z), batch_size):
        out.append(model.sample(z[start:start + batch_size], temperature=temperature, generator=generator,
                                pad_layout=layout).to(torch.int8).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.steps), np.int8)


def apply_attributes(z: torch.Tensor, vectors: dict[str, np.ndarray], amounts: list[tuple[str, float]]) -> torch.Tensor:
    """z (N, Z) plus amount x attribute vector for each (name, amount)."""
    for name, amount in amounts:
        z = z + amount * torch.as_tensor(vectors[name], dtype=z.dtype, device=z.device)
    return z


def step_accuracy(predicted: np.ndarray, target: np.ndarray) -> float:
    """Share of the target's non-padding steps that `predicted` gets right (both (T,) or (N, T))."""
    real = np.asarray(target) != PAD
    return float((np.asarray(predicted) == np.asarray(target))[real].mean()) if real.any() else float("nan")


@torch.no_grad()
def sample_melodies(model: MusicVAE, z: torch.Tensor, *, forms: torch.Tensor | None = None,
                    temperature: float = DEFAULT_TEMPERATURE, generator: torch.Generator | None = None,
                    layout: torch.Tensor | None = None, batch_size: int = 1024) -> np.ndarray:
    """codes (N, latent) -> events (N, T) int8; with `forms` (N, bars) int64 (`musicvae.forms`) a
    hierarchical model's bar j takes the conductor code of bar forms[:, j] and then its events,
    step for step, so the melody repeats as the form says. Without forms (or for a flat model)
    this is `decode`. A repeat between two bars the layout pads differently is dropped.
    """
    if not model.config.hierarchical or forms is None:
        return decode(model, z, temperature=temperature, generator=generator, layout=layout, batch_size=batch_size)
    forms = torch.as_tensor(forms, dtype=torch.long, device=z.device)
    if layout is not None:
        rows = layout.to(z.device).reshape(model.config.bars, -1)
        same_layout = (rows[:, None, :] == rows[None, :, :]).all(dim=-1)  # (bars, bars)
        own = torch.arange(model.config.bars, device=z.device).expand_as(forms)
        forms = torch.where(same_layout[own, forms], forms, own)
    out = []
    for start in range(0, len(z), batch_size):
        conditions = model.conditions(z[start:start + batch_size])
        sources = forms[start:start + batch_size]
        tied = torch.gather(conditions, 1, sources[:, :, None].expand(-1, -1, conditions.shape[-1]))
        events = model.sample_conditions(tied, temperature=temperature, generator=generator, pad_layout=layout)
        bars = events.reshape(len(events), model.config.bars, -1)
        bars = torch.gather(bars, 1, sources[:, :, None].expand(-1, -1, bars.shape[-1]))
        out.append(bars.reshape(len(events), -1).to(torch.int8).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, model.config.steps), np.int8)


def sample_prior(model: MusicVAE, count: int, generator: torch.Generator, *, prior: str = "fitted",
                 fitted: FittedPrior | None = None, forms: BarForms | None = None, meter: str | None = None,
                 temperature: float = DEFAULT_TEMPERATURE) -> np.ndarray:
    """`count` new melodies (count, T) int8: codes from `prior` ("fitted": the model file's `fitted`
    Gaussian, "standard": N(0, I)), each with the form of a training window in `meter` when the
    model file has `forms` (None: no repeats), decoded at `temperature` in `meter`'s layout (None:
    the model places padding). What `sample musicvae`, `eval musicvae --samples` and the Python
    API's `sample` all call."""
    device = next(model.parameters()).device
    layout = None if meter is None else meter_layout(meter, model.config.bars)
    z = latent_codes(count, model.config.latent, generator, device, prior=prior, fitted=fitted)
    drawn = None if forms is None else forms.draw(count, generator, meter)
    return sample_melodies(model, z, forms=drawn, temperature=temperature, generator=generator, layout=layout)
