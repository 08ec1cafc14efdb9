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


def prior_codes(count: int, latent: int, generator: torch.Generator, device: torch.device | str) -> torch.Tensor:
    """`count` codes drawn from the prior N(0, I): (count, latent) float32."""
    return torch.randn(count, latent, generator=generator, device=device)


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
