"""Latent-space paths shared by the generative families: spherical interpolation (slerp)."""

from __future__ import annotations

import torch

from audiogen.errors import AudiogenError


def slerp(a: torch.Tensor, b: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between a and b (..., Z) at t in [0, 1]; linear when they are parallel.

    slerp(a, b, 0) == a and slerp(a, b, 1) == b.
    """
    t = torch.as_tensor(t, dtype=a.dtype, device=a.device)
    cos = (a * b).sum(-1, keepdim=True) / (a.norm(dim=-1, keepdim=True) * b.norm(dim=-1, keepdim=True)).clamp(min=1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    sin = torch.sin(omega)
    linear = sin.abs() < 1e-6
    wa = torch.where(linear, 1 - t, torch.sin((1 - t) * omega) / torch.where(linear, 1.0, sin))
    wb = torch.where(linear, t, torch.sin(t * omega) / torch.where(linear, 1.0, sin))
    return wa * a + wb * b


def interpolation_path(a: torch.Tensor, b: torch.Tensor, steps: int) -> torch.Tensor:
    """`steps` codes (steps, Z) from a to b (both included) by slerp at evenly spaced t."""
    if steps < 2:
        raise AudiogenError(f"--steps {steps}: an interpolation needs at least 2 steps (the two ends)")
    return torch.stack([slerp(a, b, float(t)) for t in torch.linspace(0.0, 1.0, steps, dtype=torch.float64)])
