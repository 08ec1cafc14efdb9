"""Phase helpers: wrapping, unwrapping, instantaneous frequency and its inverse.

All functions are pure, batched over leading dims, differentiable, and work on any torch device.
Phases are in radians; instantaneous frequency (IF) is in units of pi radians per frame.
"""

from __future__ import annotations

import math

import torch

PI = math.pi


def wrap_phase(phase: torch.Tensor) -> torch.Tensor:
    """Map radians into [-pi, pi] by subtracting the nearest multiple of 2*pi (gradient 1)."""
    return phase - (2 * PI) * torch.round(phase / (2 * PI))


def unwrap_phase(phase: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Remove 2*pi jumps along `dim`, as numpy.unwrap does (same tie rule at +-pi).

    phase: (..., N) radians -> (..., N) radians, first element unchanged.
    """
    d = torch.diff(phase, dim=dim)
    d_wrapped = wrap_phase(d)
    # numpy maps a wrapped step of exactly -pi to +pi when the raw step was positive.
    d_wrapped = torch.where((d_wrapped == -PI) & (d > 0), torch.full_like(d, PI), d_wrapped)
    correction = torch.where(d.abs() < PI, torch.zeros_like(d), d_wrapped - d)
    first = phase.narrow(dim, 0, 1)
    return phase + torch.cat([torch.zeros_like(first), torch.cumsum(correction, dim=dim)], dim=dim)


def instantaneous_frequency(phase: torch.Tensor, dim: int = -2) -> torch.Tensor:
    """IF along `dim` (time): frame 0 keeps its phase, later frames the unwrapped phase step.

    phase: (..., frames, bins) radians -> (..., frames, bins) in units of pi, each in [-1, 1].
    The step of the unwrapped phase equals the wrapped step of the raw phase, so no cumulative
    sum is needed on the way in; `integrate_frequency` inverts this exactly (modulo 2*pi).
    """
    first = phase.narrow(dim, 0, 1)
    steps = wrap_phase(torch.diff(phase, dim=dim))
    return torch.cat([first, steps], dim=dim) / PI


def integrate_frequency(inst_freq: torch.Tensor, dim: int = -2) -> torch.Tensor:
    """Inverse of `instantaneous_frequency`: phase = cumsum(IF * pi) along `dim` (radians)."""
    return torch.cumsum(inst_freq * PI, dim=dim)
