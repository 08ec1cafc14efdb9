"""Map spectrograms into [-1, 1] for the networks and back: clip(a * x + b, -1, 1) per channel."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch


@dataclass(frozen=True)
class Normalizer:
    """Per-channel affine map. Defaults are magenta GANSynth's constants: log-magnitude
    [ln 1e-6, ~10.38] and IF [-1, 1] onto [-0.8, 0.8] (margin 0.8)."""

    mag_scale: float = 0.0661371661726
    mag_offset: float = 0.113718730221
    if_scale: float = 0.8
    if_offset: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)


GANSYNTH_NORMALIZER = Normalizer()


def _affine(spec: torch.Tensor, norm: Normalizer) -> tuple[torch.Tensor, torch.Tensor]:
    shape = [1] * spec.dim()
    shape[-3] = 2
    scale = torch.tensor([norm.mag_scale, norm.if_scale], dtype=spec.dtype, device=spec.device)
    offset = torch.tensor([norm.mag_offset, norm.if_offset], dtype=spec.dtype, device=spec.device)
    return scale.reshape(shape), offset.reshape(shape)


def normalize_specgram(spec: torch.Tensor, norm: Normalizer = GANSYNTH_NORMALIZER) -> torch.Tensor:
    """(..., 2, frames, bins) -> same shape in [-1, 1]."""
    scale, offset = _affine(spec, norm)
    return (spec * scale + offset).clamp(-1.0, 1.0)


def denormalize_specgram(spec: torch.Tensor, norm: Normalizer = GANSYNTH_NORMALIZER) -> torch.Tensor:
    """Inverse of `normalize_specgram` (values that were clipped stay at the clip edge)."""
    scale, offset = _affine(spec, norm)
    return (spec - offset) / scale
